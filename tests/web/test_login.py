"""The web admin at HTTP level: login by LDAP bind, CSRF, clean error pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def owner(services: Services, unit: Unit) -> str:
    uid = services.mailboxes.add(NewMailbox(full_name="Dương Thị Web", unit_code=unit.code,
                                            password=PASSWORD)).mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    return uid


def test_login_page_is_vietnamese(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "Đăng nhập" in page.get_data(as_text=True)


def test_home_requires_login(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_with_uid_or_address_then_logout(client: FlaskClient, owner: str) -> None:
    assert login(client, "khongai", PASSWORD).status_code == 401
    assert login(client, owner, "sai-mat-khau-roi").status_code == 401
    response = login(client, f"{owner.upper()}@phuyen.gov.vn", PASSWORD)
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)  # a person without a role lands on the self-service page
    assert home.status_code == 200 and "Dương Thị Web" in home.get_data(as_text=True)
    assert "Tài khoản của tôi" in home.get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/me")}).status_code == 302
    assert client.get("/").status_code == 302


def test_suspended_owner_cannot_log_in(client: FlaskClient, owner: str, services: Services) -> None:
    services.mailboxes.suspend(owner)
    assert login(client, owner, PASSWORD).status_code == 401


def test_post_without_csrf_token_is_refused(client: FlaskClient, owner: str) -> None:
    response = client.post("/login", data={"username": owner, "password": PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


@pytest.mark.parametrize("username", ["*)(uid=*", "*", "\\", "a\x00b", "x" * 5000, "a@b@c"])
def test_hostile_user_names_fail_cleanly(client: FlaskClient, username: str) -> None:
    assert login(client, username, PASSWORD).status_code in (400, 401)


def test_unknown_page_is_a_clean_404(client: FlaskClient) -> None:
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404 and "Không tìm thấy trang" in response.get_data(as_text=True)
