"""A small old-style province on its own slapd, with staff, lists and unit admins, for reorganisation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.conftest import RunningDirectory, make_settings
from tests.web.conftest import browser, page  # noqa: F401 - the browser fixtures, for test_reorg_browser.py

HERE = Path(__file__).parent
PLAN = HERE / "plan-small.yaml"
CERTIFICATE = f.der(f.root_ca().cert)
# NV0001-0003 in 22024 (the plan moves NV0001 alone to 22015), then three per unit in this order.
STAFF_UNITS = ("22024", "STC", "SKHDT", "STTTT", "SKHCN", "555", "22015", "22018", "22021", "557", "22075")
NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Châu")


def seed(services: Services) -> None:
    """Three people per unit (HR ids NV0001…), one alias, two lists, two unit admins, one certificate."""
    units = [unit for unit in STAFF_UNITS for _ in NAMES]
    requests = [NewMailbox(full_name=NAMES[i % 3], unit_code=unit, hr_id=f"NV{i + 1:04d}",
                           aliases=("tiepdan22018",) if i == 21 else ()) for i, unit in enumerate(units)]
    assert not services.mailboxes.add_many(requests)
    staff = {m.hr_id: m for m in services.mailboxes.store.search()}
    services.lists.create("22018", "banbientap", "Ban biên tập", [staff["NV0022"].uid, staff["NV0031"].uid])
    services.lists.create_unit_list("22018")
    services.lists.create_unit_list("STC")
    services.unit_admin.appoint(staff["NV0023"].uid, "22018")
    services.unit_admin.appoint(staff["NV0016"].uid, "555")
    dn = services.mailboxes.store.find_entry(staff["NV0024"].uid).dn
    services.client.modify(dn, {"userCertificate;binary": ("replace", [CERTIFICATE])})


@pytest.fixture
def small(tmp_path: Path) -> Iterator[RunningDirectory]:
    """A fresh slapd holding the small province (tests/reorg/units-small.yaml) and its staff."""
    running = RunningDirectory(make_settings(tmp_path / "state",
                                             MAILADMIN_ORGANISATION_UNITS_FILE=str(HERE / "units-small.yaml")))
    seed(running.services)
    yield running
    running.stop()


def dump(services: Services) -> dict[str, dict[str, list[bytes]]]:
    """Every entry's user attributes (no operational ones), values sorted: an LDIF dump to compare."""
    entries = services.client.search(services.client.base_dn, "(objectClass=*)", attributes=["*"])
    return {entry.dn.lower(): {name: sorted(values) for name, values in entry.attributes.items()}
            for entry in entries}
