"""`reorg apply` / `undo` on a small province: nothing lost, everything follows, undo restores the tree exactly."""

from __future__ import annotations

from typing import Any

import pytest

from mailadmin.directory import filters
from mailadmin.errors import Conflict
from mailadmin.model import UnitKind
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, eventually
from tests.reorg.conftest import PLAN, dump


def apply_plan(services: Services) -> dict[str, Any]:
    preview = services.reorg.preview(PLAN.read_bytes(), "plan-small.yaml")
    return services.reorg.apply(services.reorg.start(preview))


def staff(services: Services) -> dict[str, Any]:
    return {m.hr_id: m for m in services.mailboxes.store.search()}


def test_apply_moves_everything_and_keeps_old_addresses(small: RunningDirectory) -> None:
    services = small.services
    before = staff(services)
    result = apply_plan(services)
    assert result["failed_count"] == 0
    services.units.forget()
    units = services.units.index().units
    after = staff(services)
    assert set(after) == set(before)
    assert all(m.unit_code in units for m in after.values())
    assert not [u for u in units.values() if u.kind is UnitKind.DISTRICT]
    assert units["22015"].path == ("66", "22015") and units["22015"].kind is UnitKind.WARD
    # a split source counts among the predecessors of the unit it gave staff to
    assert units["22015"].predecessors == ("22015", "22018", "22021", "22024") and units["22015"].valid_from
    assert after["NV0001"].unit_code == "22015" and after["NV0002"].unit_code == "22080"
    assert after["NV0016"].unit_code == "CHOXEP"  # staff of a closed district: never dropped
    moved = after["NV0022"]
    assert moved.unit_code == "22015" and moved.mail == before["NV0022"].mail.replace("phuyen", "daklak")
    assert {before["NV0022"].mail, "tiepdan22018@phuyen.gov.vn", "tiepdan22018@daklak.gov.vn"} <= set(moved.aliases)
    assert after["NV0024"].certificates == before["NV0024"].certificates != ()
    list_dn = f"cn=banbientap,{services.client.base_dn.join(['ou=22015,ou=66,', ''])}"
    eventually(lambda: _members_are(services, list_dn, {after["NV0022"].uid, after["NV0031"].uid}))
    assert services.client.get(list_dn, ["mailLocalAddress"]).texts("mailLocalAddress") == [  # type: ignore[union-attr]
        "banbientap@daklak.gov.vn", "banbientap@phuyen.gov.vn"]
    assert services.roles.get(services.mailboxes.store.find_entry(after["NV0023"].uid).dn)[1] == (("66", "22015"),)
    unit_list = services.lists.members("22015", "ds-22015")
    assert {m.uid for m in unit_list} == {after[h].uid for h in after if after[h].unit_code == "22015"}
    assert "ds-22018@phuyen.gov.vn" in services.client.search(
        services.client.base_dn, filters.eq("cn", "ds-22015"))[0].texts("mailLocalAddress")


def _members_are(services: Services, list_dn: str, uids: set[str]) -> None:
    found = {m.uid for m in services.mailboxes.store.search(conditions=[filters.eq("memberOf", list_dn)])}
    assert found == uids


def test_undo_restores_the_exact_previous_directory(small: RunningDirectory) -> None:
    services = small.services
    before = dump(services)
    job = apply_plan(services)["job"]
    assert dump(services) != before
    result = services.reorg.undo(job)
    assert result["not_undone"] == []
    eventually(lambda: _same(dump(services), before))


def _same(now: dict[str, Any], before: dict[str, Any]) -> None:
    assert now == before


def test_a_plan_previewed_before_a_change_is_refused(small: RunningDirectory) -> None:
    services = small.services
    job = services.reorg.start(services.reorg.preview(PLAN.read_bytes(), "plan-small.yaml"))
    services.mailboxes.add(NewMailbox(full_name="Phạm Văn Đến Sau", unit_code="22018", hr_id="NV0999"))
    before = dump(services)
    with pytest.raises(Conflict, match="upload the plan again"):
        services.reorg.apply(job)
    assert dump(services) == before
    assert apply_plan(services)["failed_count"] == 0  # planned again: the newcomer moves too
    assert staff(services)["NV0999"].unit_code == "22015"
