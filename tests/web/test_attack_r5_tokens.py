"""API token revocation across roles and with crafted uids (round 5): an auditor revokes nothing, a unit admin
nothing outside their unit, and a uid that is an LDAP filter ("*", "a*)(uid=*") names no one: every token
still acts (held)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.web.conftest import csrf_token, login
from tests.web.test_token_management import revocations, run_cli, works

CRAFTED = ["*", "a*)(uid=*", "*)(objectClass=*", "\\2a", "x" * 5000]


def revoke(client: FlaskClient, uid: str) -> int:
    return client.post(f"/mailboxes/{quote(uid, safe='')}/api-token/revoke",
                       data={"csrf_token": csrf_token(client, "/me")}).status_code


def test_an_auditor_and_another_units_admin_revoke_nothing(app: Flask, person: Callable[..., str], unit: Unit,
                                                          other_unit: Unit, services: Services) -> None:
    holder = person("Lê Văn Có Mã", unit, Role.UNITADMIN, (unit,))
    token = services.tokens.issue(holder)
    for role, scopes in ((Role.AUDITOR, ()), (Role.UNITADMIN, (other_unit,)), (Role.HR, (unit,))):
        client = app.test_client()
        assert login(client, person(f"Lê Thị {role.value}", other_unit, role, scopes)).status_code == 302
        assert revoke(client, holder) == 403, role
    assert works(app, token) and revocations(services, holder) == []


@pytest.mark.parametrize("uid", CRAFTED)
def test_a_uid_that_is_a_filter_revokes_no_one(app: Flask, admin_client: FlaskClient, person: Callable[..., str],
                                               unit: Unit, services: Services, uid: str) -> None:
    holder = person("Lê Văn Mã Còn", unit, Role.HR, (unit,))
    token = services.tokens.issue(holder)
    assert revoke(admin_client, uid) == 404
    assert works(app, token) and revocations(services, holder) == []


def test_the_cli_revokes_no_one_for_a_uid_that_is_a_filter(app: Flask, directory: RunningDirectory,
                                                            person: Callable[..., str], unit: Unit,
                                                            services: Services) -> None:
    holder = person("Lê Văn Mã Dòng Lệnh", unit, Role.HR, (unit,))
    token = services.tokens.issue(holder)
    for uid in CRAFTED[:3]:
        for command in ("show", "revoke"):
            result = run_cli(directory, "token", command, uid)
            assert result.returncode != 0 and "Traceback" not in result.stderr, result
    assert works(app, token) and revocations(services, holder) == []
