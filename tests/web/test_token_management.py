"""API tokens are managed, not only issued: the owner sees when theirs was made and revokes it; an
administrator who may change a role holder's mailbox revokes a leaked token (audited); the CLI too."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ
from tests.web.conftest import csrf_token, login


def run_cli(directory: RunningDirectory, *args: str) -> subprocess.CompletedProcess[str]:
    """`mailadmin ARGS` as the operator runs it, on the test's directory."""
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=child_environ(directory), timeout=120)


def works(app: Flask, token: str) -> bool:
    """Whether the API accepts `token`."""
    return app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def revocations(services: Services, uid: str) -> list[str]:
    """Who revoked `uid`'s token, one actor per audited revocation."""
    return [entry.actor for entry in services.audit.entries() if entry.action == "api.token_revoke"
            and entry.target == uid]


def test_the_owner_sees_when_the_token_was_made_and_revokes_it(app: Flask, person: Callable[..., str],
                                                               unit: Unit, services: Services) -> None:
    uid = person("Chủ Mã Riêng", unit, Role.AUDITOR)
    client = app.test_client()
    login(client, uid)
    assert 'id="api-token-state"' in (page := client.get("/me").get_data(as_text=True))
    assert "api-token-revoke" not in page  # nothing to revoke yet
    shown = client.post("/me/token", data={"csrf_token": csrf_token(client, "/me")},
                        follow_redirects=True).get_data(as_text=True)
    token = shown.split('id="token">')[1].split("<")[0]
    page = client.get("/me").get_data(as_text=True)
    state = re.search(r'id="api-token-state">([^<]+)<', page)
    assert state and re.search(r"\d{2}/\d{2}/\d{4}", state.group(1)), page  # when it was made, local time
    assert 'id="api-token-revoke"' in page and works(app, token)
    revoked = client.post("/me/token/revoke", data={"csrf_token": csrf_token(client, "/me")})
    assert revoked.status_code == 302 and not works(app, token)
    assert "api-token-revoke" not in client.get("/me").get_data(as_text=True)
    again = client.post("/me/token/revoke", data={"csrf_token": csrf_token(client, "/me")})  # F5 / a second tab
    assert again.status_code == 302 and revocations(services, uid) == [f"web:{uid}"]  # one revocation, audited once


def test_a_super_admin_revokes_a_role_holders_token(app: Flask, admin_client: FlaskClient,
                                                    person: Callable[..., str], unit: Unit,
                                                    services: Services) -> None:
    holder = person("Mã Bị Lộ", unit, Role.UNITADMIN, (unit,))
    token = services.tokens.issue(holder)
    page = admin_client.get(f"/mailboxes/{holder}").get_data(as_text=True)
    assert 'id="api-token-state"' in page and 'id="api-token-revoke"' in page
    response = admin_client.post(f"/mailboxes/{holder}/api-token/revoke",
                                 data={"csrf_token": csrf_token(admin_client, f"/mailboxes/{holder}")})
    assert response.status_code == 302 and response.location.endswith(f"/mailboxes/{holder}")
    assert not works(app, token)
    assert len(revocations(services, holder)) == 1 and revocations(services, holder)[0] != holder


def test_a_unit_admin_may_not_revoke_the_token_of_a_wider_role_holder(
        app: Flask, unit_admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
        services: Services) -> None:
    wider = person("Quản Trị Tỉnh Mã", unit, Role.SUPERADMIN)
    token = services.tokens.issue(wider)
    assert 'id="api-token-revoke"' not in unit_admin_client.get(f"/mailboxes/{wider}").get_data(as_text=True)
    csrf = csrf_token(unit_admin_client, "/me")
    assert unit_admin_client.post(f"/mailboxes/{wider}/api-token/revoke", data={"csrf_token": csrf}).status_code == 403
    assert works(app, token) and revocations(services, wider) == []
    assert unit_admin_client.post("/mailboxes/khong-co-ai/api-token/revoke",
                                  data={"csrf_token": csrf}).status_code == 404


def test_plain_staff_have_no_token_controls(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    client = app.test_client()
    login(client, person("Nhân Viên Thường", unit))
    assert "api-token" not in client.get("/me").get_data(as_text=True)
    assert client.post("/me/token/revoke", data={"csrf_token": csrf_token(client, "/me")}).status_code == 403


def test_the_operator_shows_and_revokes_a_token_from_the_command_line(
        app: Flask, directory: RunningDirectory, person: Callable[..., str], unit: Unit,
        services: Services) -> None:
    holder = person("Mã Dòng Lệnh", unit, Role.HR, (unit,))
    token = services.tokens.issue(holder)
    shown = run_cli(directory, "token", "show", holder)
    assert shown.returncode == 0 and re.search(r"\d{2}/\d{2}/\d{4}", shown.stdout), shown
    revoked = run_cli(directory, "token", "revoke", holder)
    assert revoked.returncode == 0 and not works(app, token), revoked
    again = run_cli(directory, "token", "revoke", holder)
    assert again.returncode == 0 and "không có" in again.stdout and len(revocations(services, holder)) == 1
    missing = run_cli(directory, "token", "revoke", "khong-co-ai")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr and "khong-co-ai" in missing.stderr
