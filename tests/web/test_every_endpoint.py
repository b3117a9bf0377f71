"""Every route of the app, enumerated from its URL map: anonymous people and owners without a role are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask

from mailadmin.model import Unit
from tests.web.conftest import csrf_token, login

PUBLIC = {"static", "auth.login", "language.choose", "health.healthz", "health.readyz", "health.metrics",
          "auth.second_factor",  # the code page: before a session
          "cert_signin.sign_in"}  # certificate sign-in: before a session (tests/web/test_cert_signin_http.py)
OPEN_TO_OWNERS = {"home.index", "home.me", "auth.change_password", "auth.logout", "second_factor.enrol",
                  "second_factor.disable", "second_factor.recovery_codes"}
ARGUMENTS = {"uid": "annv", "code": "555", "unit_code": "555", "name": "ds-555", "action": "suspend",
             "filename": "app.js", "fingerprint": "AB" * 32,
             "job_id": "20261129-000000-000000"}


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, concrete URL) for every rule of the app."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            url = rule.rule
            for argument in rule.arguments:
                url = url.replace(f"<{argument}>", ARGUMENTS[argument])
            found.extend((rule.endpoint, method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return found


def test_every_route_is_listed_here(app: Flask) -> None:
    assert len(routes(app)) >= 30  # the enumeration below is not silently empty


def test_anonymous_is_refused_everywhere_but_login(app: Flask) -> None:
    client = app.test_client()
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        if endpoint.startswith("api."):
            assert response.status_code == 401, (endpoint, method)
        elif method == "POST":
            assert response.status_code in (302, 400), (endpoint, method)  # no session, no CSRF token
            assert response.status_code == 400 or "/login" in response.headers["Location"]
        else:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (endpoint, method)


def test_owner_without_a_role_reaches_only_self_service(app: Flask, person: Callable[..., str],
                                                       unit: Unit) -> None:
    client = app.test_client()
    login(client, person("Chỉ Là Chủ Hộp", unit))
    token = csrf_token(client, "/me")
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC | OPEN_TO_OWNERS or endpoint.startswith("api."):
            continue
        data = {"csrf_token": token, "uid": "annv", "unit": "555", "action": "suspend", "name": "x"}
        response = client.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (endpoint, method, response.status_code)


def test_the_menu_offers_each_person_only_what_they_may_open(app: Flask, person: Callable[..., str],
                                                            unit: Unit) -> None:
    """Plain staff saw the whole admin menu and got 403 on each item (issue #12)."""
    from mailadmin.model import Role

    expected = {None: set(), Role.HR: {"nav-home", "nav-imports"},
                Role.AUDITOR: {"nav-home", "nav-mailboxes", "nav-units", "nav-lists", "nav-audit"},
                Role.UNITADMIN: {"nav-home", "nav-mailboxes", "nav-units", "nav-lists", "nav-imports"}}
    for role, entries in expected.items():
        client = app.test_client()
        login(client, person("Người Xem Thực Đơn", unit, role, (unit,) if role else ()))
        page = client.get("/me").get_data(as_text=True)
        shown = set(re.findall(r'id="(nav-[a-z]+)"', page))
        assert shown == entries, role
        for entry in shown:
            link = re.search(rf'href="([^"]+)" id="{entry}"', page)
            assert link and client.get(link.group(1)).status_code == 200, (role, entry)
