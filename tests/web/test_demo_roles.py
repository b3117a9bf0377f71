"""Demo role accounts: existing staff get a role, a scope and a known password; the totals do not move."""

from __future__ import annotations

from mailadmin.model import Role
from mailadmin.services.demo import ADMIN_UNIT, demo_role_password_path, grant_demo_roles
from mailadmin.services.mailboxes import NewMailbox
from tests.conftest import RunningDirectory


def test_demo_roles_go_to_existing_staff_with_known_passwords(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    for name, unit in (("Trần Văn Huyện", "555"), ("Lê Thị Tỉnh", ADMIN_UNIT), ("Phạm Văn Sở", ADMIN_UNIT)):
        services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit))
    before = sum(1 for _ in services.mailboxes.store.search())
    granted = grant_demo_roles(services)
    assert grant_demo_roles(services) == granted  # idempotent
    assert sum(1 for _ in services.mailboxes.store.search()) == before
    unit_admin = services.principal(granted[Role.UNITADMIN])
    assert unit_admin.may_manage(services.units.get("555")) and not unit_admin.may_manage(services.units.get("557"))
    assert services.principal(granted[Role.AUDITOR]).may_read(services.units.get("557"))
    assert services.principal(granted[Role.HR]).may_import(services.units.get("557"))
    for role, uid in granted.items():
        password = demo_role_password_path(fresh_directory.settings, role).read_text(encoding="utf-8").strip()
        dn = services.mailboxes.store.find_entry(uid).dn
        assert services.client.check_password(dn, password)
        assert services.mailboxes.store.password_state(dn) == (False, "")
