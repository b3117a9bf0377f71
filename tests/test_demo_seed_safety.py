"""`mailadmin demo seed` never touches an entry it did not create (it once took over a real person)."""

from __future__ import annotations

import subprocess
import sys

from mailadmin.model import Role
from mailadmin.services.demo import demo_people
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.stats import mailbox_stats
from mailadmin.services.units import load_units_file
from tests.conftest import RunningDirectory, child_environ

PASSWORD = "Mat-khau-that-2026"


def seed(directory: RunningDirectory, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", "demo", "seed", *options], capture_output=True,
                          text=True, env=child_environ(directory, passwords_argon2_memory_kib="8192",
                                                       passwords_argon2_time_cost="1"), timeout=300)


def test_a_directory_with_real_mailboxes_is_refused_and_left_alone(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    real = services.mailboxes.add(NewMailbox(full_name="Nguyễn Văn An", unit_code="555", password=PASSWORD)).mailbox
    dn = services.mailboxes.store.find_entry(real.uid).dn
    services.units.rename("557", "Thị xã Sông Cầu (tên do người dùng đặt)")
    for options in ((), ("--force",)):
        result = seed(fresh_directory, *options)
        assert result.returncode == 4 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith("Lỗi: ") and "Error: the directory already holds 1 mailbox" in result.stderr
        assert real.uid in result.stderr
    assert services.client.check_password(dn, PASSWORD)
    assert services.principal(real.uid).roles == frozenset()
    assert mailbox_stats(services.mailboxes.store).total == 1
    services.units.forget()
    assert services.units.get("557").name == "Thị xã Sông Cầu (tên do người dùng đặt)"


def test_an_earlier_demo_is_skipped_and_replaced_only_with_force(fresh_directory: RunningDirectory) -> None:
    services, settings = fresh_directory.services, fresh_directory.settings
    people = demo_people(settings, load_units_file(settings.resolve(settings.organisation.units_file)))
    earlier = [NewMailbox(full_name=name, unit_code="STTTT", hr_id=hr_id) for hr_id, name in list(people.items())[1:4]]
    services.mailboxes.add_many(earlier)
    skipped = seed(fresh_directory)
    assert skipped.returncode == 0 and "skipped" in skipped.stdout, skipped.stderr
    assert mailbox_stats(services.mailboxes.store).total == 3
    forced = seed(fresh_directory, "--force")
    assert forced.returncode == 0, forced.stderr
    stats = mailbox_stats(services.mailboxes.store)
    assert stats.total == 6888 and stats.by_tier == {"province": 2508, "district": 1528, "commune": 2852}
    holders = {role: list(services.mailboxes.store.search(conditions=[f"(maRole={role.value})"]))
               for role in (Role.UNITADMIN, Role.HR, Role.AUDITOR)}
    assert all(len(found) == 1 and people.get(found[0].hr_id) == found[0].name.full for found in holders.values())
