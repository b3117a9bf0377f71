"""Web fixtures: people with roles and known passwords in units of their own, logged-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import make_agency

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
