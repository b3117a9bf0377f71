"""Demo roles go to the first demo staff of their unit even when many other mailboxes come before them."""

from __future__ import annotations

from mailadmin.model import Role
from mailadmin.services.demo import ADMIN_UNIT, FIRST_READ, demo_people, grant_demo_roles
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.units import load_units_file
from tests.conftest import RunningDirectory


def test_role_holders_are_found_behind_more_real_mailboxes_than_a_first_read(fresh_directory: RunningDirectory) -> None:
    services, settings = fresh_directory.services, fresh_directory.settings
    real = [NewMailbox(full_name="Trần Văn Thật", unit_code=unit, hr_id=f"REAL-{unit}-{n}")
            for n in range(FIRST_READ + 3) for unit in ("555", ADMIN_UNIT)]
    assert services.mailboxes.add_many(real) == []
    people = list(demo_people(settings, load_units_file(settings.resolve(settings.organisation.units_file))).items())
    staff = [NewMailbox(full_name=name, unit_code=unit, hr_id=hr_id)
             for (hr_id, name), unit in zip(people[1:4], ("555", ADMIN_UNIT, ADMIN_UNIT), strict=True)]
    assert services.mailboxes.add_many(staff) == []
    granted = grant_demo_roles(services)
    holders = {role: services.mailboxes.get(uid).hr_id for role, uid in granted.items()}
    assert holders == {Role.UNITADMIN: people[1][0], Role.HR: people[2][0], Role.AUDITOR: people[3][0]}
    assert grant_demo_roles(services) == granted  # idempotent
