"""Forms recognised when sent again (round 6: ResentForms, 5 minutes) are kept in the login throttle's file,
the same table as the failed logins it counts over ppolicy's window (passwords.lockout_seconds, 15 minutes by
default). Its sweep of expired rows went by its own 5 minutes: once a process had recorded 200 refusals (any
users', any sources'), every failed login older than 5 minutes was forgotten, so one source could try more
passwords within the window than the throttle allows, and reach ppolicy's lockout of the account it spares."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from mailadmin import create_app
from mailadmin.model import Unit
from mailadmin.services.auth import FAILURES_PER_SOURCE, RESEND_SECONDS
from mailadmin.services.throttle import PRUNE_EVERY
from tests.conftest import RunningDirectory
from tests.web.test_login_resend_http import login_form


class Clock:
    """The throttle's clock, moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app_of_a_host(directory: RunningDirectory, tmp_path: Path) -> Iterator[Flask]:
    """The web admin counting failed logins in a file, as every process of a host does (tests count in memory)."""
    app = create_app({"TESTING": True}, settings=directory.settings)
    app.extensions["mailadmin"].login_throttle_path = tmp_path / "throttle" / "logins.sqlite3"
    yield app
    app.extensions["mailadmin"].close()


def test_failures_within_the_window_survive_the_resend_sweep(app_of_a_host: Flask, person: Callable[..., str],
                                                             unit: Unit) -> None:
    app = app_of_a_host
    throttle = app.extensions["mailadmin"].logins.throttle
    assert throttle.window > RESEND_SECONDS + 60
    limiters = (throttle.per_login, throttle.per_source, throttle.resent.seen)
    clock = Clock(2_000_000_000.0)
    for limiter in limiters:
        limiter.clock = clock
    try:
        slow_guessing(app, person("Bị Đoán Mật Khẩu Chậm", unit), clock)
    finally:
        for limiter in limiters:
            limiter.clock = time.time


def slow_guessing(app: Flask, uid: str, clock: Clock) -> None:
    """One source guesses up to one short of its limit on the account, waits 6 minutes, and goes on."""
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = source = f"10.77.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    allowed = app.extensions["mailadmin"].logins.throttle.per_login.limit
    for guess in range(allowed - 1):
        assert attacker.post("/login", data=login_form(attacker, uid, f"doan-{guess}")).status_code == 401
    clock.now += RESEND_SECONDS + 60  # still well within the throttle's window
    others = app.test_client()
    for n in range(PRUNE_EVERY):  # other people mistyping, from many places: a busy morning
        others.environ_base["REMOTE_ADDR"] = f"10.66.{n // FAILURES_PER_SOURCE}.{n % FAILURES_PER_SOURCE + 1}"
        assert others.post("/login", data=login_form(others, f"nguoi{n}", "go-nham")).status_code == 401
    per_source = app.extensions["mailadmin"].logins.throttle.per_source
    assert per_source.count(f"src:web:{source}") == allowed - 1  # remembered for the whole window
    assert attacker.post("/login", data=login_form(attacker, uid, "doan-cuoi")).status_code == 401
    assert attacker.post("/login", data=login_form(attacker, uid, "doan-them")).status_code == 429
