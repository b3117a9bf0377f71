"""Web fixtures: people with roles and known passwords in units of their own, logged-in clients."""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.model import Role, Unit
from mailadmin.services.auth import throttle_file
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, free_port, make_agency

PASSWORD = "Mat-khau-web-2026"


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of a page's first form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD):
    """POST the login form with a valid CSRF token."""
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


@pytest.fixture(autouse=True)
def no_failed_logins_counted(directory: RunningDirectory) -> None:
    """Each web test starts with the shared directory's login throttle empty, whatever ran before it.

    Web tests share one directory per test process and log in from 127.0.0.1: without this, a file
    that tries wrong passwords would throttle the logins of whichever file runs after it.
    """
    throttle = throttle_file(directory.settings)
    if throttle.exists():
        with closing(sqlite3.connect(throttle)) as db, db:
            db.execute("DELETE FROM failures")


@pytest.fixture
def other_unit(services: Services) -> Unit:
    """A second agency of the test's own, outside the first one."""
    return make_agency(services, "W", "Đơn vị khác")


@pytest.fixture
def person(services: Services) -> Callable[..., str]:
    """Make a mailbox with a known password and, optionally, a role over some units; returns its uid."""
    def make(full_name: str, unit: Unit, role: Role | None = None, scopes: tuple[Unit, ...] = ()) -> str:
        uid = services.mailboxes.add(NewMailbox(full_name=full_name, unit_code=unit.code,
                                                password=PASSWORD)).mailbox.uid
        dn = services.mailboxes.store.find_entry(uid).dn
        services.mailboxes.store.clear_password_reset(dn)
        if role is not None:
            services.roles.set(dn, frozenset({role}), tuple(scope.path for scope in scopes))
        return uid
    return make


@pytest.fixture
def admin_client(app: Flask, person: Callable[..., str], unit: Unit) -> FlaskClient:
    """A super admin, logged in."""
    client = app.test_client()
    assert login(client, person("Quản Trị Viên", unit, Role.SUPERADMIN)).status_code == 302
    return client


@pytest.fixture
def unit_admin_client(app: Flask, person: Callable[..., str], unit: Unit) -> FlaskClient:
    """A unit admin of `unit` only, logged in."""
    client = app.test_client()
    assert login(client, person("Trần Quản Lý", unit, Role.UNITADMIN, (unit,))).status_code == 302
    return client


# Browser tests: Debian's chromium through Playwright against the app served on a free loopback port.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def served(app: Flask) -> Iterator[str]:
    """Serve `app` with werkzeug in a thread on a free loopback port; its base URL until the caller is done."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    app.extensions["mailadmin"].close()


@pytest.fixture(scope="module")
def base_url(directory: RunningDirectory) -> Iterator[str]:
    """The web admin served by werkzeug in a thread on a free loopback port."""
    yield from served(create_app(settings=directory.settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium with a fresh profile, never downloaded (executable_path)."""
    profile = tempfile.mkdtemp(prefix="mailadmin-chromium-")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=ARGS, headless=True, locale="vi-VN")
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    tab.close()


def sign_in(page: object, base_url: str, uid: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", uid)
    page.fill("#password", password)
    page.click("button[type=submit]")
