"""Session and token lifetime attacked: what a demoted person's sessions and API token still do.

Before the fix a role's revocation left the API token on the entry acting: idle while the person
held no role, it acted again, with whatever role came next, the day someone granted one, a token
issued to a super admin now answering as the new auditor. The demoted person's browser sessions
went on too. A revocation now ends them like a suspension or a password reset does.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import login
from tests.web.test_roles_http import roles_form


def test_a_revoked_role_holders_token_never_acts_again(admin_client: FlaskClient, app: Flask, unit: Unit,
                                                       person: Callable[..., str], services: Services) -> None:
    uid = person("Cựu Quản Trị Tỉnh", unit, Role.SUPERADMIN)
    bearer = {"Authorization": f"Bearer {services.tokens.issue(uid)}"}
    api = app.test_client()
    assert api.get("/api/v1/units", headers=bearer).status_code == 200
    assert roles_form(admin_client, uid, action="revoke", role="superadmin").status_code == 302
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    assert roles_form(admin_client, uid, action="grant", role="auditor").status_code == 302
    assert services.roles.holder(uid).roles == {Role.AUDITOR}
    assert api.get("/api/v1/units", headers=bearer).status_code == 401
    assert api.get("/api/v1/me", headers=bearer).status_code == 401


def test_a_revocation_of_one_scope_ends_the_unit_admins_sessions(admin_client: FlaskClient, app: Flask, unit: Unit,
                                                                 other_unit: Unit, person: Callable[..., str],
                                                                 services: Services) -> None:
    uid = person("Cựu Quản Lý Hai Nơi", unit, Role.UNITADMIN, (unit, other_unit))
    browser = app.test_client()
    assert login(browser, uid).status_code == 302
    assert browser.get(f"/units/{other_unit.code}").status_code == 200
    answer = roles_form(admin_client, uid, action="revoke", role="unitadmin", scope=other_unit.code)
    assert answer.status_code == 302 and services.roles.holder(uid).scopes == (unit.path,)
    assert browser.get(f"/units/{unit.code}").status_code == 302  # to the login page: the session ended
    assert login(browser, uid).status_code == 302  # a new login sees the one unit left
    assert browser.get(f"/units/{unit.code}").status_code == 200
    assert browser.get(f"/units/{other_unit.code}").status_code == 403


def test_a_grant_leaves_sessions_and_tokens_alone(admin_client: FlaskClient, app: Flask, unit: Unit,
                                                  person: Callable[..., str], services: Services) -> None:
    uid = person("Kiểm Toán Được Thêm Quyền", unit, Role.AUDITOR)
    bearer = {"Authorization": f"Bearer {services.tokens.issue(uid)}"}
    browser = app.test_client()
    assert login(browser, uid).status_code == 302
    assert roles_form(admin_client, uid, action="grant", role="hr", scope=unit.code).status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer).get_json()["roles"] == ["auditor", "hr"]
    assert browser.get("/imports").status_code == 200
