"""Demo role accounts: demo staff (never anyone else) get a role, a scope and a known password."""

from __future__ import annotations

from mailadmin.model import Role
from mailadmin.services.demo import ADMIN_UNIT, demo_people, demo_role_password_path, grant_demo_roles
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.units import load_units_file
from tests.conftest import RunningDirectory


def test_demo_roles_go_to_existing_staff_with_known_passwords(fresh_directory: RunningDirectory) -> None:
    services, settings = fresh_directory.services, fresh_directory.settings
    real = services.mailboxes.add(NewMailbox(full_name="Nguyễn Văn An", unit_code="555")).mailbox.uid
    people = list(demo_people(settings, load_units_file(settings.resolve(settings.organisation.units_file))).items())
    for (hr_id, name), unit in zip(people[1:4], ("555", ADMIN_UNIT, ADMIN_UNIT), strict=True):
        services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit, hr_id=hr_id))
    before = sum(1 for _ in services.mailboxes.store.search())
    granted = grant_demo_roles(services)
    assert grant_demo_roles(services) == granted  # idempotent
    assert sum(1 for _ in services.mailboxes.store.search()) == before
    assert real not in granted.values() and services.principal(real).roles == frozenset()
    unit_admin = services.principal(granted[Role.UNITADMIN])
    assert unit_admin.may_manage(services.units.get("555")) and not unit_admin.may_manage(services.units.get("557"))
    assert services.principal(granted[Role.AUDITOR]).may_read(services.units.get("557"))
    assert services.principal(granted[Role.HR]).may_import(services.units.get("557"))
    for role, uid in granted.items():
        password = demo_role_password_path(fresh_directory.settings, role).read_text(encoding="utf-8").strip()
        dn = services.mailboxes.store.find_entry(uid).dn
        assert services.client.check_password(dn, password)
        assert services.mailboxes.store.password_state(dn) == (False, "")
