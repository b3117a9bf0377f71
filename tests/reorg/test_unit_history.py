"""Units with history: `reorg apply` keeps the units that end (closed, merged away) under ou=history with their
last day and successor, out of the tree, the stats, the lists and the pickers; their old codes lead to the
successor (unit pages, unit search, import files, the CLI); `reorg undo` restores the directory exactly.

One reorganised small province per module (the tests read it in file order; the last one undoes it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.directory import dit
from mailadmin.importer.columns import header_labels
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, eventually, make_settings
from tests.reorg.conftest import HERE, PLAN, dump, seed
from tests.web.conftest import PASSWORD, login

SUCCESSORS = {"22018": "22015", "22021": "22015", "22024": "22080", "555": "CHOXEP", "557": "CHOXEP",
              "SKHDT": "STC", "STTTT": "SKHCN"}
RENAMED = {"54": "66", "22075": "22080"}  # carried on under a new code: the old code's entry keeps its old name
KEPT = SUCCESSORS | RENAMED


@dataclass
class Reorganised:
    directory: RunningDirectory
    dump_before: dict[str, Any]
    job: str

    @property
    def services(self) -> Services:
        return self.directory.services


def mailadmin(running: RunningDirectory, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=child_environ(running, lang="en"), timeout=180, check=False)


def small_directory(tmp_path: Path) -> RunningDirectory:
    running = RunningDirectory(make_settings(tmp_path / "state",
                                             MAILADMIN_ORGANISATION_UNITS_FILE=str(HERE / "units-small.yaml")))
    seed(running.services)
    return running


@pytest.fixture(scope="module")
def reorganised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reorganised]:
    running = small_directory(tmp_path_factory.mktemp("unit-history"))
    dump_before = dump(running.services)
    result = mailadmin(running, "reorg", "apply", str(PLAN), "--json")
    assert result.returncode == 0, result.stderr
    yield Reorganised(running, dump_before, json.loads(result.stdout)["job"])
    running.stop()


@pytest.fixture(scope="module")
def app(reorganised: Reorganised) -> Iterator[Flask]:
    flask_app = create_app({"TESTING": True}, settings=reorganised.directory.settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def history(services: Services) -> dict[str, dict[str, list[str]]]:
    """The entries of the history container by code."""
    found = services.client.search(dit.history_dn(services.client.base_dn), "(objectClass=maUnit)",
                                   scope="one", attributes=["ou", "maValidTo", "maSuccessor", "maUnitKind"])
    return {entry.text("ou"): {name: entry.texts(name) for name in ("maValidTo", "maSuccessor", "maUnitKind")}
            for entry in found}


def test_units_that_end_are_kept_with_their_last_day_and_successor(reorganised: Reorganised) -> None:
    kept = history(reorganised.services)
    assert {code: entry["maSuccessor"] for code, entry in kept.items()} == {
        code: [successor] for code, successor in KEPT.items()}
    assert all(entry["maValidTo"] == ["20250630000000Z"] for entry in kept.values())  # the day before 2025-07-01
    assert kept["557"]["maUnitKind"] == ["district"] and kept["22018"]["maUnitKind"] == ["commune"]
    assert kept["54"]["maUnitKind"] == ["province"]


def test_history_is_out_of_the_tree_stats_and_lists(reorganised: Reorganised) -> None:
    services = reorganised.services
    index = services.units.index()
    assert not set(KEPT) & set(index.units)
    assert set(index.former) == set(KEPT)
    listed = json.loads(mailadmin(reorganised.directory, "units", "list", "--json").stdout)
    assert not set(KEPT) & {unit["code"] for unit in listed}
    stats = json.loads(mailadmin(reorganised.directory, "stats", "--json").stdout)
    assert stats["units_by_kind"]["district"] == 0
    below = services.client.search(dit.history_dn(services.client.base_dn), "(!(objectClass=maUnit))",
                                   scope="sub", attributes=["1.1"])
    assert [entry.dn for entry in below] == [dit.history_dn(services.client.base_dn)]  # no mailbox, no list


def test_the_cli_names_the_successor_of_an_old_code(reorganised: Reorganised) -> None:
    result = mailadmin(reorganised.directory, "mailbox", "add", "Phạm Thị Mới", "--unit", "22018")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "22018" in result.stderr and "merged into Phường Tuy Hòa (22015) on 2025-07-01" in result.stderr
    result = mailadmin(reorganised.directory, "mailbox", "add", "Phạm Thị Mới", "--unit", "557")
    assert "closed on 2025-07-01" in result.stderr and "Chờ sắp xếp (CHOXEP)" in result.stderr
    kept = json.loads(mailadmin(reorganised.directory, "units", "history", "--json").stdout)
    assert {row["code"]: row["successors"] for row in kept} == {
        code: [successor] + (["22015"] if code == "22024" else []) for code, successor in KEPT.items()}
    assert {row["last_day"] for row in kept} == {"2025-06-30"}
    one = mailadmin(reorganised.directory, "units", "history", "22075")  # carried on as 22080
    assert one.returncode == 0 and "continued as (renamed to) Xã Xuân Lộc (22080) on 2025-07-01" in one.stdout
    assert "merged" not in one.stdout and "đổi mã thành Xã Xuân Lộc (22080)" in one.stdout
    province = mailadmin(reorganised.directory, "units", "history", "54")
    assert "the unit 54 continued as (renamed to) Tỉnh Đắk Lắk (66)" in province.stdout, province.stdout
    merged = mailadmin(reorganised.directory, "units", "history", "22024")  # merged into 22080, staff to 22015
    assert "merged into" in merged.stdout and "continued as" not in merged.stdout
    assert mailadmin(reorganised.directory, "units", "history", "NOSUCH").returncode != 0


@pytest.fixture
def added(reorganised: Reorganised) -> Iterator[list[str]]:
    """uids the test adds (to log in): deleted after it, so that undo can be compared with the first dump."""
    uids: list[str] = []
    yield uids
    for uid in uids:
        reorganised.services.client.delete(reorganised.services.mailboxes.store.find_entry(uid).dn)


def test_unit_pages_show_the_history(app: Flask, reorganised: Reorganised, added: list[str]) -> None:
    client = _logged_in(app, reorganised.services, Role.SUPERADMIN, "", added)
    page = client.get("/units/22015").get_data(as_text=True)
    assert 'id="unit-history"' in page and "/units/22018" in page and "/units/22024" in page
    former = client.get("/units/22018")
    assert former.status_code == 200
    text = former.get_data(as_text=True)
    assert "đã sáp nhập vào Phường Tuy Hòa (22015) từ ngày 2025-07-01" in text and "/units/22015" in text
    assert "30/06/2025" in text
    found = client.get("/units?q=557").get_data(as_text=True)
    assert 'id="unit-fate"' in found and "/units/CHOXEP" in found
    by_old_name = client.get("/units?q=Sở Thông tin và Truyền thông").get_data(as_text=True)
    assert 'id="unit-fate"' in by_old_name and "/units/SKHCN" in by_old_name
    assert client.get("/units/NOSUCH").status_code == 404


def test_a_unit_carried_on_under_a_new_code_keeps_its_old_name(app: Flask, reorganised: Reorganised,
                                                               added: list[str]) -> None:
    """54 (Tỉnh Phú Yên) goes on as 66 (Tỉnh Đắk Lắk): the CLI and the unit pages still tell its old name."""
    shown = json.loads(mailadmin(reorganised.directory, "units", "history", "54", "--json").stdout)
    assert [(row["name"], row["last_day"], row["successors"]) for row in shown] == [
        ("Tỉnh Phú Yên", "2025-06-30", ["66"])]
    assert "Tỉnh Phú Yên" in mailadmin(reorganised.directory, "units", "history").stdout
    client = _logged_in(app, reorganised.services, Role.SUPERADMIN, "", added)
    page = client.get("/units/54").get_data(as_text=True)
    assert "Tỉnh Phú Yên" in page and "/units/66" in page and "30/06/2025" in page
    assert "Tỉnh Phú Yên" in client.get("/units/66").get_data(as_text=True)  # its predecessors, named
    found = client.get("/units?q=Tỉnh Phú Yên").get_data(as_text=True)
    assert 'id="unit-fate"' in found and "/units/66" in found


def test_a_unit_admin_sees_the_history_of_their_unit_only(app: Flask, reorganised: Reorganised,
                                                          added: list[str]) -> None:
    client = _logged_in(app, reorganised.services, Role.UNITADMIN, "STC", added)
    assert client.get("/units/SKHDT").status_code == 200  # merged into STC
    assert client.get("/units/22018").status_code == 403
    assert 'id="unit-fate"' not in client.get("/units?q=22018").get_data(as_text=True)


def _logged_in(app: Flask, services: Services, role: Role, scope: str, added: list[str]) -> FlaskClient:
    """A new person of STC holding `role` (over `scope`), logged in."""
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Lịch Sử", unit_code="STC",
                                            password=PASSWORD)).mailbox.uid
    added.append(uid)
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({role}), (services.units.get(scope).path,) if scope else ())
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client


def _import_dry_run(running: RunningDirectory, tmp_path: Path, rows: list[list[str]]) -> dict[str, Any]:
    path = tmp_path / "hr.csv"
    labels = header_labels()
    path.write_text("\n".join(",".join(row) for row in [labels[:4], *rows]), encoding="utf-8")
    result = mailadmin(running, "import", str(path), "--dry-run", "--json")
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def test_an_import_row_with_an_old_unit_code_goes_to_its_successor(reorganised: Reorganised,
                                                                   tmp_path: Path) -> None:
    """A unique successor is used, with a warning on the row (HR files made before the reform carry old codes);
    a closed unit or a split is refused naming the successors, since only HR knows where a new person goes."""
    plan = _import_dry_run(reorganised.directory, tmp_path, [
        ["NV0900", "Phạm Thị Mới", "22018", ""],            # merged: into 22015
        ["NV0901", "Đỗ Văn Hai", "54/557/22075", ""],       # an old path: 22075 was carried on as 22080
        ["NV0902", "Võ Thị Ba", "557", ""],                 # closed district: refused
        ["NV0903", "Lê Văn Tư", "22024", ""],               # split between 22080 and 22015: refused
        ["NV0016", "Nguyễn Văn An", "555", ""],             # already in the holding unit: stays there
        ["NV0904", "Trần Văn Năm", "Sở Kế hoạch và Đầu tư", ""],  # an old name: merged into STC
    ])
    warnings = {w["line"]: w["warning_en"] for w in plan["warnings"]}
    assert warnings[2].endswith("merged into Phường Tuy Hòa (22015) on 2025-07-01: imported into Phường Tuy Hòa "
                                "(code 22015)")
    assert "imported into Xã Xuân Lộc (code 22080)" in warnings[3]
    assert "closed on 2025-07-01" in warnings[6] and "(code CHOXEP)" in warnings[6]
    assert "imported into Sở Tài chính (code STC)" in warnings[7]
    assert all(w["warning_vi"] for w in plan["warnings"])
    errors = {e["line"]: e for e in plan["errors"]}
    assert set(errors) == {4, 5}
    assert "Chờ sắp xếp (CHOXEP)" in errors[4]["error_en"] and "write the new unit's code" in errors[4]["error_en"]
    assert "Xã Xuân Lộc (22080), Phường Tuy Hòa (22015)" in errors[5]["error_en"]
    assert "hãy ghi mã đơn vị mới" in errors[5]["error_vi"]
    assert plan["counts"] == {"create": 3, "update": 1, "move": 0, "retire": 0, "unchanged": 0, "error": 2}


def test_undo_restores_the_exact_previous_directory(reorganised: Reorganised) -> None:
    result = mailadmin(reorganised.directory, "reorg", "undo", reorganised.job, "--json")
    assert result.returncode == 0, result.stderr
    eventually(lambda: _same(dump(reorganised.services), reorganised.dump_before))


def _same(now: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert now == wanted


def test_a_plan_may_delete_the_units_that_end(tmp_path: Path) -> None:
    running = small_directory(tmp_path)
    try:
        before = dump(running.services)
        plan = tmp_path / "plan.yaml"
        plan.write_text(PLAN.read_text(encoding="utf-8").replace("  source:", "  closed_units: delete\n  source:"),
                        encoding="utf-8")
        result = mailadmin(running, "reorg", "apply", str(plan), "--json")
        assert result.returncode == 0, result.stderr
        client = running.services.client
        assert client.get(dit.history_dn(client.base_dn)) is None
        assert client.count(client.base_dn, "(&(objectClass=maUnit)(ou=557))") == 0
        assert mailadmin(running, "reorg", "undo", json.loads(result.stdout)["job"]).returncode == 0
        eventually(lambda: _same(dump(running.services), before))
    finally:
        running.stop()
