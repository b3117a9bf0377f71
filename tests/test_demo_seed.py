"""The demo province: 6,888 mailboxes split 2,508 / 1,528 / 2,852 by tier, seeded once."""

from __future__ import annotations

import subprocess
from collections import Counter

from mailadmin.resources import project_path
from mailadmin.services.demo import demo_admin_password, demo_requests, seed_demo
from mailadmin.services.people import spread
from mailadmin.services.stats import mailbox_stats
from mailadmin.services.units import load_units_file
from tests.conftest import RunningDirectory


def test_spread_is_proportional_and_sums_exactly() -> None:
    assert spread(10, [1, 1, 1]) == [4, 3, 3]
    assert spread(100, [3, 1]) == [75, 25]
    parts = spread(2508, [4.0, 4.0, 2.0, *[1.0] * 18])
    assert sum(parts) == 2508 and parts[0] == parts[1] and abs(parts[2] - 2 * parts[3]) <= 1


def test_demo_names_look_vietnamese_and_are_deterministic() -> None:
    units = load_units_file(project_path("config", "units.yaml"))
    first, again = demo_requests(units, 54), demo_requests(units, 54)
    assert first == again and len(first) == 6888
    families = Counter(request.full_name.split()[0] for request in first)
    assert 0.33 < families["Nguyễn"] / len(first) < 0.43
    assert {"Trần", "Lê", "Phạm", "Huỳnh", "Phan", "Võ"} <= set(families)
    assert len({request.hr_id for request in first}) == 6888


def test_seed_counts_by_tier_and_admin_login(fresh_directory: RunningDirectory) -> None:
    services, settings = fresh_directory.services, fresh_directory.settings
    report = seed_demo(services, demo_admin_password(settings))
    assert (report.mailboxes_created, report.failures) == (6888, 0)
    stats = mailbox_stats(services.mailboxes.store)
    assert stats.by_tier == {"province": 2508, "district": 1528, "commune": 2852}
    assert stats.by_status["active"] == 6888
    # The same numbers with the stock OpenLDAP client, as an operator would check.
    status = fresh_directory.slapd.status()
    for tier, expected in stats.by_tier.items():
        out = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", status.uri, "-D", status.bind_dn,
                              "-y", status.password_file, "-b", status.base_dn,
                              f"(&(objectClass=maMailbox)(maTier={tier}))", "1.1"],
                             capture_output=True, text=True, check=True).stdout
        assert out.count("dn: ") == expected
    admin = services.mailboxes.get(settings.demo.admin_uid)
    assert admin.tier.value == "province"
    dn = services.mailboxes.store.find_entry(admin.uid).dn
    assert services.client.check_password(dn, demo_admin_password(settings))
    assert seed_demo(services, demo_admin_password(settings)).skipped  # seeding twice adds nothing
    assert mailbox_stats(services.mailboxes.store).total == 6888
