"""The socket keeper (directory/keeper.py): one per writing process, holding only what is in use, replaced if killed."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from mailadmin.directory import keeper
from mailadmin.errors import DirectoryUnavailable
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, eventually, make_agency, make_settings
from tests.test_directory import person


def keeper_pid() -> int:
    """The pid of this process's keeper (started by a bulk write)."""
    assert keeper._keeper is not None and keeper._keeper.alive()
    return keeper._keeper._process.pid


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_one_keeper_holds_only_the_sockets_in_use(directory: RunningDirectory, tmp_path: Path) -> None:
    services = directory.services
    unit = make_agency(services, "P", "Keeper")
    base = services.client.base_dn
    services.client.add_many([person("keepfirst", unit, base)])
    pid = keeper_pid()
    held_before = open_descriptors(pid)
    for n in range(30):  # 30 bulk writes, two connections each at most, and 30 transactions of the web's kind
        services.client.add_many([person(f"keep{n:02d}x{k}", unit, base) for k in range(3)], batch_size=2)
        with services.client.transaction() as txn:
            txn.modify(person(f"keep{n:02d}x0", unit, base)[0], {"title": ("replace", ["kept"])})
    assert keeper_pid() == pid  # the same keeper all along
    eventually(lambda: _at_most(pid, held_before))  # every socket handed over was given back


def _at_most(pid: int, count: int) -> None:
    assert open_descriptors(pid) <= count


def test_a_killed_keeper_is_replaced_and_writes_go_on(directory: RunningDirectory) -> None:
    services = directory.services
    unit = make_agency(services, "P", "Keeper")
    base = services.client.base_dn
    services.client.add_many([person("killkeeper0", unit, base)])
    first = keeper_pid()
    os.kill(first, signal.SIGKILL)
    keeper._keeper._process.wait()  # type: ignore[union-attr]  # reap it (this process is its parent)
    assert services.client.add_many([person(f"killkeeper{n}", unit, base) for n in range(1, 5)]) == []
    assert keeper_pid() != first
    assert services.client.count(base, "(uid=killkeeper*)") == 5


def test_a_transaction_given_up_on_a_frozen_slapd_leaves_it_alive(tmp_path: Path) -> None:
    """The web's transaction() waiting for a commit on a frozen slapd (SIGSTOP) gives up after
    ldap.receive_timeout; slapd 2.5.13 aborted when it woke to the closed connection (connection_destroy)."""
    running = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_LDAP_RECEIVE_TIMEOUT="1"))
    try:
        services = running.services
        unit = make_agency(services, "P", "Frozen")
        base = services.client.base_dn
        pid = running.slapd.running_pid()
        assert pid is not None
        waking = threading.Timer(3.0, os.kill, (pid, signal.SIGCONT))
        with pytest.raises(DirectoryUnavailable), services.client.transaction() as txn:
            for n in range(3):
                txn.add(*person(f"frozentxn{n}", unit, base))
            os.kill(pid, signal.SIGSTOP)  # the commit is sent to a frozen server
            waking.start()
        waking.join()
        eventually(lambda: _answers(services), seconds=30)
        assert running.slapd.running_pid() == pid, "slapd died when it woke up"
    finally:
        os.kill(pid, signal.SIGCONT)
        running.stop()


def _answers(services: Services) -> None:
    try:
        services.client.count(services.client.base_dn, "(uid=frozentxn*)")
    except DirectoryUnavailable as exc:
        raise AssertionError(str(exc)) from exc

