"""Fixtures: real private slapd instances (never a mock), services and the Flask app."""

from __future__ import annotations

import email
import itertools
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import TypeVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.directory.client import DirectoryClient
from mailadmin.model import Unit, UnitKind
from mailadmin.services.setup import initialise
from mailadmin.settings import Settings, load_settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.wiring import Services

_unit_numbers = itertools.count(1)
T = TypeVar("T")


# Each pytest-xdist worker hands out ports from its own block below the kernel's ephemeral range
# (32768-60999), walking forward: a port given to a child that has not bound it yet is never given
# to another worker, nor again by this one, nor by the kernel to an outgoing connection.
PORT_BLOCK, FIRST_PORT = 1500, 20000
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_block_start = FIRST_PORT + _worker * PORT_BLOCK
_start = random.randrange(PORT_BLOCK)  # two test runs side by side (developers' worktrees) start apart
_next_ports = itertools.cycle([*range(_block_start + _start, _block_start + PORT_BLOCK),
                               *range(_block_start, _block_start + _start)])


def free_port() -> int:
    """A loopback TCP port nobody listens on right now, from this test process's own block."""
    for port in itertools.islice(_next_ports, PORT_BLOCK):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free loopback port left in this worker's block")


def make_settings(state_dir: Path, **overrides: str) -> Settings:
    """Settings for a private directory in `state_dir` on a free port."""
    environ = {"MAILADMIN_STATE_DIR": str(state_dir), "MAILADMIN_SLAPD_PORT": str(free_port()),
               "MAILADMIN_PASSWORDS_ARGON2_MEMORY_KIB": "8192", "MAILADMIN_PASSWORDS_ARGON2_TIME_COST": "1",
               # Role holders log in with a password alone here; tests/web/test_second_factor*.py turn it on.
               "MAILADMIN_AUTH_SECOND_FACTOR_ROLES": ""}
    environ.update(overrides)
    return load_settings(environ)


def eventually(check: Callable[[], T], *, seconds: float = 10.0) -> T:
    """Poll `check` until it stops raising AssertionError (slapd's refint updates run after the reply)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def writes_counted(client: DirectoryClient, *, seconds: float = 10.0) -> None:
    """Until slapd has counted every write it answered (cn=Monitor, as kept lists read it).

    slapd moves monitorOpCompleted only after sending the result: a kept list read at once may find an
    own write not yet counted and, once the client's few short retries are spent (a loaded machine),
    sort again. Tests that assert "not sorted again" wait for the count first.
    """
    def settled() -> None:
        assert client._write_counters()[1], "slapd has not yet counted a write it answered"
    eventually(settled, seconds=seconds)


def child_environ(directory: RunningDirectory, **settings: str) -> dict[str, str]:
    """Environment of a `mailadmin` child process on `directory`, with MAILADMIN_<KEY> settings."""
    return {**os.environ, "MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
            "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port),
            "MAILADMIN_AUTH_SECOND_FACTOR_ROLES": ",".join(directory.settings.auth.second_factor_roles),
            **{f"MAILADMIN_{key.upper()}": value for key, value in settings.items()}}


@contextmanager
def mailadmin_process(*args: str, environ: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """`python -m mailadmin ARGS` as a child process, killed at the end if the test has not stopped it."""
    process = subprocess.Popen([sys.executable, "-m", "mailadmin", *args], env=environ, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    """Until something listens on the loopback port; the child's output if it exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


class RunningDirectory:
    """A started slapd with services bound to it; stopped by the fixture that made it."""

    def __init__(self, settings: Settings, *, load_units: bool = True) -> None:
        self.settings = settings
        self.slapd = PrivateSlapd(settings)
        self.slapd.start()
        self.services = Services(settings)
        if load_units:
            initialise(self.services)

    def stop(self) -> None:
        self.services.close()
        self.slapd.stop()


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDirectory]:
    """One slapd for the session, with the official unit tree; tests work in their own units."""
    running = RunningDirectory(make_settings(tmp_path_factory.mktemp("state")))
    yield running
    running.stop()


@pytest.fixture
def fresh_directory(tmp_path: Path) -> Iterator[RunningDirectory]:
    """A brand-new slapd for one test (for tests whose result depends on every entry)."""
    running = RunningDirectory(make_settings(tmp_path / "state"))
    yield running
    running.stop()


@pytest.fixture
def services(directory: RunningDirectory) -> Services:
    return directory.services


def make_agency(services: Services, prefix: str, name: str) -> Unit:
    """A new agency below the province with a code never used before in this session."""
    code = f"{prefix}{next(_unit_numbers)}"
    created = Unit(code=code, name=f"{name} {code}", kind=UnitKind.AGENCY, path=("54", code))
    services.units.store.add(created)
    services.units.forget()
    return created


@pytest.fixture
def unit(services: Services) -> Unit:
    """A new agency of its own below the province, so tests never see each other's mailboxes."""
    return make_agency(services, "T", "Đơn vị thử nghiệm")


class MailSink:
    """An aiosmtpd handler keeping every message it receives (welcome mails, reminders)."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append((envelope, email.message_from_bytes(envelope.original_content or b"")))
        return "250 OK"


@pytest.fixture
def mail_sink() -> Iterator[tuple[MailSink, int]]:
    """A real SMTP server on loopback that keeps what it receives, and its port."""
    handler, port = MailSink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def app(directory: RunningDirectory) -> Iterator[Flask]:
    flask_app = create_app({"TESTING": True}, settings=directory.settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
