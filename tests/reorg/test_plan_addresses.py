"""`reorg plan` gives the new domain's addresses by the mailbox service's rule (names.AddressAllocator.claim):
an address another entry of the new domain holds (mailbox or list), a reserved local part or a unit-list
(ds-) one is a conflict of the preview, and `reorg apply` writes nothing. A mailbox's own uid is no conflict.

The clashing addresses are written straight to the directory, as a directory carried over from another
system (or given in the new domain before the reorganisation) holds them: the service never hands them out.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, make_settings
from tests.reorg.conftest import HERE, PLAN, dump, seed

NEW = "daklak.gov.vn"
OLD = "phuyen.gov.vn"


@dataclass
class Clashing:
    directory: RunningDirectory
    uids: dict[str, str]  # HR id -> uid
    dump_before: dict[str, Any]

    @property
    def services(self) -> Services:
        return self.directory.services


def give(services: Services, uid: str, *addresses: str) -> None:
    """Addresses the service would not hand out, written as a migrated directory holds them."""
    dn = services.mailboxes.store.find_entry(uid).dn
    services.client.modify(dn, {"mailLocalAddress": ("add", list(addresses))})


@pytest.fixture(scope="module")
def clashing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clashing]:
    """The small province where four new addresses of plan-small.yaml cannot be given."""
    running = RunningDirectory(make_settings(tmp_path_factory.mktemp("addresses") / "state",
                                             MAILADMIN_ORGANISATION_UNITS_FILE=str(HERE / "units-small.yaml")))
    seed(running.services)
    uids = {m.hr_id: m.uid for m in running.services.mailboxes.store.search()}
    give(running.services, uids["NV0004"], f"banbientap@{NEW}")         # the list banbientap@OLD goes there
    give(running.services, uids["NV0007"], f"info@{OLD}")               # reserved (config/mailadmin.yaml)
    give(running.services, uids["NV0019"], f"ds-ketoan@{OLD}")          # unit-list addresses: ds-CODE
    give(running.services, uids["NV0010"], f"{uids['NV0013']}@{NEW}")   # NV0013's new mail
    yield Clashing(running, uids, dump(running.services))
    running.stop()


def conflicts(services: Services) -> list[dict[str, Any]]:
    return services.reorg.preview(PLAN.read_bytes(), "plan-small.yaml").summary()["conflicts"]


def about(found: list[dict[str, Any]], address: str) -> list[dict[str, Any]]:
    return [c for c in found if address in c["en"]]


def test_a_new_address_another_entry_holds_is_a_conflict(clashing: Clashing) -> None:
    found = conflicts(clashing.services)
    # a list's new address held by a mailbox: the list moves to the new domain by the same rule
    listed = about(found, f"banbientap@{NEW}")
    assert [c["key"] for c in listed] == ["list banbientap"], found
    assert clashing.uids["NV0004"] in listed[0]["en"] and clashing.uids["NV0004"] in listed[0]["vi"]
    mailbox = about(found, f"{clashing.uids['NV0013']}@{NEW}")
    assert [c["key"] for c in mailbox] == [f"mailbox {clashing.uids['NV0013']}"], found
    assert clashing.uids["NV0010"] in mailbox[0]["en"]


def test_a_reserved_local_part_is_a_conflict_in_the_new_domain(clashing: Clashing) -> None:
    found = conflicts(clashing.services)
    for hr_id, address in (("NV0007", f"info@{NEW}"), ("NV0019", f"ds-ketoan@{NEW}")):
        reserved = about(found, address)
        assert [c["key"] for c in reserved] == [f"mailbox {clashing.uids[hr_id]}"], found
        assert "reserved" in reserved[0]["en"] and "dành riêng" in reserved[0]["vi"]


def test_only_the_clashing_addresses_are_conflicts(clashing: Clashing) -> None:
    found = conflicts(clashing.services)
    assert len(found) == 4, found  # everyone else keeps their local part in the new domain (their own uid)


def reorg(running: RunningDirectory, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", "reorg", *args], capture_output=True, text=True,
                          env=child_environ(running), timeout=180, check=False)


def test_the_cli_shows_the_conflicts_and_apply_writes_nothing(clashing: Clashing, tmp_path: Path) -> None:
    shown = reorg(clashing.directory, "plan", str(PLAN))
    assert shown.returncode == 2 and "Traceback" not in shown.stderr
    assert f"banbientap@{NEW}" in shown.stdout and f"info@{NEW}" in shown.stdout
    applied = reorg(clashing.directory, "apply", str(PLAN))
    assert applied.returncode != 0 and "Traceback" not in applied.stderr
    assert "4 xung đột" in applied.stderr and "4 conflicts" in applied.stderr
    assert dump(clashing.services) == clashing.dump_before
