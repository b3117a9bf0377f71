"""Administrators see ppolicy lockouts on the mailbox page and the API, and lift them (issue #10, point 7)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def locked(person: Callable[..., str], unit: Unit, services: Services) -> str:
    """A mailbox locked by wrong passwords (a mail client elsewhere)."""
    uid = person("Bị Khóa Tạm", unit)
    dn = services.mailboxes.store.find_entry(uid).dn
    for _ in range(services.settings.passwords.max_failures):
        services.client.check_password(dn, "sai-mat-khau")
    return uid


def test_the_mailbox_page_shows_the_lock_and_unlocks_it(admin_client: FlaskClient, app: Flask, locked: str,
                                                        services: Services) -> None:
    page = admin_client.get(f"/mailboxes/{locked}").get_data(as_text=True)
    assert 'id="lock-state"' in page and "Bị khóa đến" in page and "(giờ Việt Nam)" in page
    assert f'action="/mailboxes/{locked}/unlock"' in page and "Mở khóa" in page
    response = admin_client.post(f"/mailboxes/{locked}/unlock",
                                 data={"csrf_token": csrf_token(admin_client, f"/mailboxes/{locked}")})
    assert response.status_code == 302
    assert services.mailboxes.lock_state(locked).locked is False
    assert 'id="lock-state"' not in admin_client.get(f"/mailboxes/{locked}").get_data(as_text=True)
    assert login(app.test_client(), locked, PASSWORD).status_code == 302
    entry = [e for e in services.audit.entries() if e.action == "mailbox.unlock" and e.target == locked][-1]
    assert entry.actor.startswith("web:") and entry.before == {"locked": True, "failures": 5}


def test_unlock_needs_csrf_and_the_right_to_manage_the_mailbox(app: Flask, locked: str, person: Callable[..., str],
                                                               other_unit: Unit, services: Services) -> None:
    outsider = app.test_client()
    assert login(outsider, person("Quản Trị Khác", other_unit, Role.UNITADMIN, (other_unit,))).status_code == 302
    assert outsider.post(f"/mailboxes/{locked}/unlock").status_code == 400
    token = csrf_token(outsider, "/password")
    assert outsider.post(f"/mailboxes/{locked}/unlock", data={"csrf_token": token}).status_code == 403
    assert services.mailboxes.lock_state(locked).locked


def test_a_suspended_mailbox_is_not_unlocked_but_reactivated(admin_client: FlaskClient, locked: str,
                                                             services: Services) -> None:
    services.mailboxes.suspend(locked)
    page = admin_client.get(f"/mailboxes/{locked}").get_data(as_text=True)
    assert f'action="/mailboxes/{locked}/unlock"' not in page
    response = admin_client.post(f"/mailboxes/{locked}/unlock",
                                 data={"csrf_token": csrf_token(admin_client, f"/mailboxes/{locked}")})
    assert response.status_code == 400 and "kích hoạt lại" in response.get_data(as_text=True)
    assert services.mailboxes.get(locked).status.value == "suspended"


def test_the_api_shows_the_lock(app: Flask, locked: str, person: Callable[..., str], unit: Unit,
                                services: Services) -> None:
    token = services.tokens.issue(person("Đọc Khóa", unit, Role.AUDITOR))
    body = app.test_client().get(f"/api/v1/mailboxes/{locked}", headers={"Authorization": f"Bearer {token}"}).json
    assert body["lock"]["locked"] is True and body["lock"]["failures"] == 5
    assert body["lock"]["until"].endswith("+07:00")


def test_unlocking_forgets_the_counted_failures(admin_client: FlaskClient, locked: str, services: Services) -> None:
    """Else the owner's next typo would lock the account again at once."""
    services.mailboxes.unlock(locked)
    assert services.mailboxes.lock_state(locked).failures == 0


def test_the_mailbox_page_shows_the_last_login_and_the_password_age(admin_client: FlaskClient, app: Flask,
                                                                   person: Callable[..., str], unit: Unit) -> None:
    """What LAM and Google Workspace show an administrator (issue #12): slapd's lastbind and ppolicy times."""
    uid = person("Trần Văn Đăng Nhập", unit)
    before = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert "chưa đăng nhập lần nào" in before.split('id="last-login">')[1].split("</td>")[0]
    owner = app.test_client()
    assert login(owner, uid).status_code == 302
    token = csrf_token(owner, "/password")
    assert owner.post("/password", data={"csrf_token": token, "old_password": PASSWORD,
                                         "new_password": "Song-Ba-chay-ra-bien-9", "confirm": "Song-Ba-chay-ra-bien-9"}
                      ).status_code == 302
    after = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    shown = after.split('id="last-login">')[1].split("</td>")[0]
    assert "giờ Việt Nam" in shown and "chưa" not in shown
    assert "/" in after.split('id="password-changed">')[1].split("</td>")[0]  # a date, from ppolicy
