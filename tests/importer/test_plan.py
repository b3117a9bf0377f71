"""Plans: create / update with a field diff / move / unchanged / retire, addresses free of collisions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mailadmin.errors import PermissionDenied
from mailadmin.importer.parse import parse
from mailadmin.importer.plan import Outcome, Plan, PlanOptions, make_plan
from mailadmin.importer.snapshot import Snapshot
from mailadmin.importer.validate import validate
from mailadmin.model import Status

from .helpers import csv_file, mailbox, snapshot

AN = mailbox("annv", "Nguyễn Văn An", hr_id="NV1", title="Chuyên viên", phone="0257 3812345")


def plan_of(rows: list[list[str]], directory: Snapshot, **options: object) -> Plan:
    people, errors = validate(parse(csv_file(rows), "csv", 100), directory)
    return make_plan(people, errors, directory, PlanOptions(**options))  # type: ignore[arg-type]


def test_same_data_plans_nothing() -> None:
    plan = plan_of([["NV1", "Nguyễn Văn An", "STTTT", "Chuyên viên", "0257 3812345", "annv@phuyen.gov.vn",
                     "", "active"]], snapshot(AN))
    assert [a.outcome for a in plan.actions] == [Outcome.UNCHANGED]
    assert plan.writes == []


def test_changed_fields_become_an_update_with_a_diff() -> None:
    plan = plan_of([["NV1", "Nguyễn Văn Ân", "STTTT", "Trưởng phòng", "0257 3812345", "", "an@phuyen.gov.vn"]],
                   snapshot(AN))
    [action] = plan.actions
    assert action.outcome is Outcome.UPDATE
    assert action.changes == ("full_name", "title", "aliases")
    assert action.after is not None and action.after.uid == "annv" and action.after.aliases == ("an@phuyen.gov.vn",)


def test_a_new_unit_is_a_move_and_the_tier_follows() -> None:
    [action] = plan_of([["NV1", "Nguyễn Văn An", "22015", "Chuyên viên", "0257 3812345"]], snapshot(AN)).actions
    assert action.outcome is Outcome.MOVE and action.changes == ("unit_code",)
    assert action.after is not None and action.after.tier.value == "commune"


def test_status_retired_sets_a_retention_date_and_blank_status_keeps_it() -> None:
    suspended = replace(AN, status=Status.SUSPENDED)
    keep = plan_of([["NV1", "Nguyễn Văn An", "STTTT", "Chuyên viên", "0257 3812345"]], snapshot(suspended))
    assert keep.actions[0].outcome is Outcome.UNCHANGED
    retire = plan_of([["NV1", "Nguyễn Văn An", "STTTT", "Chuyên viên", "0257 3812345", "", "", "nghỉ"]],
                     snapshot(AN), retention_days=10)
    after = retire.actions[0].after
    assert after is not None and after.status is Status.RETIRED and after.retain_until is not None


def test_new_addresses_avoid_the_directory_the_batch_and_explicit_requests() -> None:
    rows = [["NV2", "Nguyễn Văn Hùng", "555"], ["NV3", "Nguyễn Văn Hưng", "555"],
            ["NV4", "Ngô Văn An", "555"], ["NV5", "Lê Quốc Hùng", "555", "", "", "hungnv2"]]
    plan = plan_of(rows, snapshot(AN, others={"annv1"}))
    assert [a.after.mail.split("@")[0] for a in plan.actions if a.after] == ["hungnv", "hungnv1", "annv2", "hungnv2"]


def test_a_mailbox_without_hr_id_is_matched_by_its_address() -> None:
    bare = mailbox("binhtt", "Trần Thị Bình", unit="555")
    [action] = plan_of([["", "Trần Thị Bình", "555", "", "", "binhtt@phuyen.gov.vn"]], snapshot(bare)).actions
    assert action.outcome is Outcome.UNCHANGED
    [adopt] = plan_of([["NV9", "Trần Thị Bình", "555", "", "", "binhtt"]], snapshot(bare)).actions
    assert adopt.outcome is Outcome.UPDATE and adopt.changes == ("hr_id",)


def test_retire_missing_covers_the_unit_subtree_only() -> None:
    directory = snapshot(AN, mailbox("binhtt", "Trần Thị Bình", unit="22015", hr_id="NV2"),
                         mailbox("cuonglv", "Lê Văn Cường", unit="555", hr_id="NV3"))
    plan = plan_of([["NV3", "Lê Văn Cường", "555"]], directory, retire_missing="555")
    assert [(a.outcome, a.uid) for a in plan.actions] == [(Outcome.UNCHANGED, "cuonglv"), (Outcome.RETIRE, "binhtt")]
    assert plan.counts()["retire"] == 1


def test_scope_limits_what_a_file_may_touch() -> None:
    plan = plan_of([["NV1", "Nguyễn Văn An", "555"], ["NV2", "Lê Bình", "22015"], ["NV3", "Lê Ba", "STTTT"]],
                   snapshot(AN), scope=("555",))
    assert [a.outcome for a in plan.actions] == [Outcome.ERROR, Outcome.CREATE, Outcome.ERROR]
    assert "outside the units you manage" in plan.actions[0].error.message.render("en")  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied):
        plan_of([], snapshot(AN), scope=("555",), retire_missing="STTTT")
