"""Super admins give and take roles on the mailbox page (issue #12: no UI for the HR or auditor role), audited."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


def roles_form(client: FlaskClient, uid: str, **form: str):
    return client.post(f"/mailboxes/{uid}/roles", data={"csrf_token": csrf_token(client, f"/mailboxes/{uid}"),
                                                         **form})


def test_a_super_admin_gives_and_takes_the_hr_role_over_a_unit(admin_client: FlaskClient, person: Callable[..., str],
                                                               unit: Unit, services: Services) -> None:
    uid = person("Lâm Thị Nhân Sự", unit)
    page = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="role-form"' in page and "Nhân sự" in page
    assert roles_form(admin_client, uid, action="grant", role="hr", scope=unit.code).status_code == 302
    holder = services.roles.holder(uid)
    assert holder is not None and holder.roles == {Role.HR} and holder.scopes == (unit.path,)
    assert "role.grant" in [entry.action for entry in services.audit.entries() if entry.target == uid]
    shown = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True).split('id="roles">')[1].split("</p>")[0]
    assert "Nhân sự" in shown and unit.name in shown
    assert roles_form(admin_client, uid, action="revoke", role="hr").status_code == 302
    assert services.roles.holder(uid).roles == frozenset()


def test_a_wrong_scope_is_explained_and_changes_nothing(admin_client: FlaskClient, person: Callable[..., str],
                                                        unit: Unit, services: Services) -> None:
    uid = person("Lâm Văn Phạm Vi", unit)
    page = roles_form(admin_client, uid, action="grant", role="auditor", scope=unit.code)
    assert page.status_code == 302 and services.roles.holder(uid).roles == frozenset()
    flashed = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert "cả tỉnh" in flashed  # "the role auditor covers the whole province"


def test_only_super_admins_change_roles(unit_admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                        services: Services) -> None:
    uid = person("Lâm Văn Thường", unit)
    assert 'id="role-form"' not in unit_admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    answer = roles_form(unit_admin_client, uid, action="grant", role="superadmin")
    assert answer.status_code == 403 and services.roles.holder(uid).roles == frozenset()
