"""Security at HTTP level: roles on every endpoint, CSRF, forced change, lockout, throttling, injection."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_login_resend_http import login_form

ADMIN_POSTS = ("/mailboxes/{uid}/status/suspend", "/mailboxes/{uid}/password", "/mailboxes/{uid}/edit",
               "/mailboxes/{uid}/move", "/mailboxes/bulk", "/mailboxes/new")
READER_GETS = ("/mailboxes", "/mailboxes/{uid}")
ADMIN_GETS = ("/mailboxes/new", "/mailboxes/suggest?name=An")


@pytest.fixture
def target(person: Callable[..., str], unit: Unit) -> str:
    return person("Hồ Thị Đích", unit)


def _client_as(app: Flask, uid: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client


@pytest.mark.parametrize("role", [None, Role.HR, Role.AUDITOR])
def test_non_admins_change_nothing_anywhere(app: Flask, person: Callable[..., str], unit: Unit, target: str,
                                            role: Role | None, services: Services) -> None:
    client = _client_as(app, person("Người Thường", unit, role, (unit,) if role else ()))
    token = csrf_token(client, "/password")
    for path in ADMIN_POSTS:
        data = {"csrf_token": token, "uid": target, "action": "suspend", "unit": unit.code, "full_name": "X Y"}
        assert client.post(path.format(uid=target), data=data).status_code == 403, path
    for path in ADMIN_GETS:
        assert client.get(path).status_code == 403, path
    for path in READER_GETS:
        assert client.get(path.format(uid=target)).status_code == (200 if role is Role.AUDITOR else 403), path
    assert services.mailboxes.get(target).status is Status.ACTIVE


def test_anonymous_is_sent_to_login_everywhere(client: FlaskClient, target: str) -> None:
    for path in (*READER_GETS, *ADMIN_GETS, "/", "/password"):
        response = client.get(path.format(uid=target))
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_every_post_without_csrf_token_is_refused(admin_client: FlaskClient, target: str,
                                                  services: Services, unit: Unit) -> None:
    for path in (*ADMIN_POSTS, "/logout", "/password"):
        response = admin_client.post(path.format(uid=target), data={"uid": target, "action": "suspend",
                                                                    "unit": unit.code})
        assert response.status_code == 400 and "Biểu mẫu đã hết hạn" in response.get_data(as_text=True), path
    assert services.mailboxes.get(target).status is Status.ACTIVE


def test_reset_forces_a_new_password_before_anything_else(
        app: Flask, admin_client: FlaskClient, target: str, services: Services) -> None:
    page = admin_client.post(f"/mailboxes/{target}/password", follow_redirects=True,
                             data={"csrf_token": csrf_token(admin_client, "/mailboxes")}).get_data(as_text=True)
    one_time = page.split('id="one-time-password">')[1].split("<")[0]
    client = app.test_client()
    response = login(client, target, one_time)
    assert response.status_code == 302 and response.headers["Location"].endswith("/password")
    assert client.get("/").headers["Location"].endswith("/password")
    token = csrf_token(client, "/password")
    too_short = client.post("/password", data={"csrf_token": token, "old_password": one_time,
                                               "new_password": "ngan", "confirm": "ngan"})
    assert too_short.status_code == 400
    changed = client.post("/password", data={"csrf_token": token, "old_password": one_time,
                                             "new_password": "Mat-khau-moi-2026", "confirm": "Mat-khau-moi-2026"})
    assert changed.status_code == 302 and client.get("/me").status_code == 200
    dn = services.mailboxes.store.find_entry(target).dn
    assert services.mailboxes.store.password_state(dn) == (False, "")
    assert services.client.check_password(dn, "Mat-khau-moi-2026")


def test_suspended_and_locked_accounts_are_explained(app: Flask, target: str, services: Services) -> None:
    """Only to someone who proves the password (the web login itself can no longer lock anyone: throttled)."""
    dn = services.mailboxes.store.find_entry(target).dn
    for _ in range(services.settings.passwords.max_failures):  # wrong passwords from a mail client elsewhere
        services.client.check_password(dn, "sai-mat-khau")
    client = app.test_client()
    assert "bị khóa tạm thời" not in login(client, target, "sai-mat-khau").get_data(as_text=True)
    page = login(client, target, PASSWORD).get_data(as_text=True)
    assert "bị khóa tạm thời" in page and "giờ Việt Nam" in page
    services.mailboxes.suspend(target)
    assert "tạm khóa hoặc đã thôi sử dụng" in login(client, target, PASSWORD).get_data(as_text=True)


def test_login_is_throttled_per_source_and_user_name(app: Flask, services: Services) -> None:
    """Below ppolicy's lockout per (address, user); ten per address over all user names. Each attempt is typed
    into the form as the page renders it anew (the same form sent again counts once: test_login_resend_http)."""
    client = app.test_client()
    below_lockout = services.settings.passwords.max_failures - 1

    def attempt(name: str) -> int:
        return client.post("/login", data=login_form(client, name, "sai")).status_code

    codes = [attempt("khongcoai") for _ in range(below_lockout + 1)]
    assert codes == [401] * below_lockout + [429]
    others = [attempt(f"khongcoai{n}") for n in range(10 - below_lockout + 1)]
    assert others[:-1] == [401] * (10 - below_lockout) and others[-1] == 429


def test_session_cookie_is_httponly_and_strict_enough(app: Flask, target: str) -> None:
    client = app.test_client()
    response = login(client, target)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


HOSTILE = ["*)(uid=*", "*", "\\", "a\x00b", "x" * 5000, ")(|(objectClass=*)", "*)(maRole=superadmin"]


@pytest.mark.parametrize("text", HOSTILE)
def test_injection_in_every_search_box_finds_nothing_extra(admin_client: FlaskClient, unit: Unit,
                                                           person: Callable[..., str], text: str) -> None:
    person("Bùi Văn Thật", unit)
    page = admin_client.get("/mailboxes", query_string={"q": text, "unit": unit.code})
    assert page.status_code == 200
    assert "Bùi Văn Thật" not in page.get_data(as_text=True)
    suggestion = admin_client.get("/mailboxes/suggest", query_string={"name": text})
    assert suggestion.status_code == 200


def test_suspending_someone_ends_their_open_session(app: Flask, target: str, services: Services) -> None:
    client = app.test_client()
    assert login(client, target).status_code == 302 and client.get("/me").status_code == 200
    services.mailboxes.suspend(target)
    response = client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
