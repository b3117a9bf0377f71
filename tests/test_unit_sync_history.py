"""Loading a unit list older than a reorganisation (`units sync`, `directory init` at every scripts/run start)
never brings back the units the reorganisation ended: it names each one and what became of it, a dry run
says the same, and the directory is left exactly as the reorganisation made it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningDirectory, child_environ, make_settings
from tests.reorg.conftest import HERE, PLAN, dump, seed

OLD_LIST = HERE / "units-small.yaml"
MERGED = "the unit 22018 was merged into Phường Tuy Hòa (22015) on 2025-07-01; not re-created"
CLOSED = "the unit 557 was closed on 2025-07-01; its staff went to Chờ sắp xếp (CHOXEP); not re-created"
KEPT_NAME = ("the unit 22015 keeps the name Phường Tuy Hòa given by the reorganisation of 2025-07-01 "
             "(the list says Phường 1); rename it on its unit page if needed")


def mailadmin(running: RunningDirectory, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=child_environ(running, lang="en", **settings), timeout=180, check=False)


@pytest.fixture(scope="module")
def reorganised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDirectory]:
    """The small province (tests/reorg), reorganised by tests/reorg/plan-small.yaml."""
    running = RunningDirectory(make_settings(tmp_path_factory.mktemp("sync-history") / "state",
                                             MAILADMIN_ORGANISATION_UNITS_FILE=str(OLD_LIST)))
    seed(running.services)
    applied = mailadmin(running, "reorg", "apply", str(PLAN), "--json")
    assert applied.returncode == 0, applied.stderr
    yield running
    running.stop()


def test_a_dry_run_of_the_old_list_names_every_ended_unit(reorganised: RunningDirectory) -> None:
    before = dump(reorganised.services)
    result = mailadmin(reorganised, "units", "sync", str(OLD_LIST), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    notes = [note["en"] for note in report["skipped"]]
    assert report["dry_run"] and (report["created"], report["renamed"]) == (0, 0)
    assert MERGED in notes and CLOSED in notes and KEPT_NAME in notes
    assert len(notes) == 9 + 1  # the nine ended units (54, SKHDT, STTTT, 555, 557, 22018, 22021, 22024, 22075)
    assert all(note["vi"] for note in report["skipped"])
    assert dump(reorganised.services) == before


def test_syncing_the_old_list_writes_nothing_and_says_why(reorganised: RunningDirectory) -> None:
    before = dump(reorganised.services)
    result = mailadmin(reorganised, "units", "sync", str(OLD_LIST))
    assert result.returncode == 0, result.stderr
    assert "0 mới / created, 0 đổi tên / renamed" in result.stdout and f"  {MERGED}\n" in result.stdout
    assert dump(reorganised.services) == before
    reorganised.services.units.forget()
    index = reorganised.services.units.index()
    assert "22018" not in index.units and index.get("22015").name == "Phường Tuy Hòa"


def test_directory_init_at_a_restart_keeps_the_reorganised_tree(reorganised: RunningDirectory) -> None:
    """scripts/run runs `directory init` at every start with the shipped (pre-reform) list of the whole province."""
    before = dump(reorganised.services)
    result = mailadmin(reorganised, "directory", "init")
    assert result.returncode == 0, result.stderr
    assert "0 mới / created" in result.stdout
    assert "the unit 54 continued as (renamed to) Tỉnh Đắk Lắk (66)" in result.stdout
    assert "its parent 555 is no longer in the tree" in result.stdout  # the communes the small province lacks
    assert dump(reorganised.services) == before


def test_a_new_unit_of_the_old_list_is_created_where_its_parent_stands_today(
        reorganised: RunningDirectory, tmp_path: Path) -> None:
    listed = tmp_path / "units.yaml"
    listed.write_text(OLD_LIST.read_text(encoding="utf-8").replace(
        '        kind: agency\n      - code: "SKHDT"',
        '        kind: agency\n        children:\n          - code: "STC-KB"\n            name: "Kho bạc"\n'
        '            kind: agency\n      - code: "SKHDT"', 1), encoding="utf-8")
    result = mailadmin(reorganised, "units", "sync", str(listed), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["created"] == 1
    reorganised.services.units.forget()
    assert reorganised.services.units.get("STC-KB").path == ("66", "STC", "STC-KB")
