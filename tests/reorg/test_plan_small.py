"""`reorg plan` on a small province: the preview names every change and writes nothing."""

from __future__ import annotations

from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN, dump


def test_preview_counts_and_writes_nothing(small: RunningDirectory) -> None:
    services: Services = small.services
    before = dump(services)
    summary = services.reorg.preview(PLAN.read_bytes(), "plan-small.yaml").summary()
    assert dump(services) == before
    assert summary["conflicts"] == []
    units = {unit["code"]: unit for unit in summary["units"]}
    assert units["22015"]["mailboxes_before"] == 9 and units["22015"]["mailboxes_after"] == 10  # + NV0001
    assert units["22080"]["mailboxes_after"] == 5  # 22075 and what is left of 22024
    assert units["CHOXEP"]["mailboxes_after"] == 6  # the staff of the two closed districts
    assert summary["addresses_changing"] == 33
    assert sorted(summary["units_closed"]) == ["22018", "22021", "22024", "555", "557", "SKHDT", "STTTT"]
    assert summary["admins_rescoped"] == 2
