"""Two rows of one import whose HR ids differ only in case name one person for slapd (employeeNumber compares
without case; the unique overlay refuses the second in the batch's transaction): the refused batch is replayed row
by row and the refused row says which HR id clashes, in both languages, instead of the directory's raw words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailadmin.directory.results import error_for_result
from mailadmin.errors import Conflict
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, make_agency
from tests.importer.helpers import csv_file
from tests.importer.test_apply import invoke


def clashing_file(unit: Unit, hr_id: str) -> bytes:
    """Three new people, the first two with `hr_id` in two cases."""
    return csv_file([[hr_id, "Trịnh Thị Hòa", unit.code], [hr_id.lower(), "Trịnh Văn Hòa", unit.code],
                     [f"{unit.code}-KHAC", "Trịnh Văn Khác", unit.code]])


def imported(services: Services, monkeypatch: pytest.MonkeyPatch, source: Path) -> dict[str, object]:
    result = invoke(services, monkeypatch, "import", str(source), "--json")
    assert result.exit_code == 2, result.output  # a row refused
    return json.loads(result.stdout)


def test_an_hr_id_twice_in_one_batch_is_a_conflict_naming_it(services: Services, unit: Unit, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # An HR id stored before (as in any directory in use): slapd then answers the clash with its own refusal.
    services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Trước", unit_code=unit.code, hr_id=f"{unit.code}-TRUOC"))
    hr_id = f"{unit.code}-HOA"
    source = tmp_path / "staff.csv"
    source.write_bytes(clashing_file(unit, hr_id))
    summary = imported(services, monkeypatch, source)
    [failed] = summary["failed"]  # type: ignore[misc]
    clash = hr_id.lower()  # as the refused row wrote it
    assert failed["line"] == 3 and failed["hr_id"] == clash
    assert f"Mã nhân sự {clash} đã thuộc về" in failed["error"]
    assert f"the HR id {clash} already belongs" in failed["error"]
    assert "non-unique" not in failed["error"]
    holders = {m.name.full: m.hr_id for m in services.mailboxes.store.search(conditions=[f"(employeeNumber={hr_id})"])}
    assert holders == {"Trịnh Thị Hòa": hr_id}


def test_the_first_hr_ids_of_a_directory_clashing_leave_it_readable(
        fresh_directory: RunningDirectory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = fresh_directory.services
    unit = make_agency(services, "H", "Đơn vị nhập đầu tiên")
    source = tmp_path / "staff.csv"
    source.write_bytes(clashing_file(unit, f"{unit.code}-HOA"))
    summary = imported(services, monkeypatch, source)
    assert [failed["line"] for failed in summary["failed"]] == [3]  # type: ignore[union-attr]
    assert "mã nhân sự" in summary["failed"][0]["error"].lower()  # type: ignore[index]
    # Failed here before directory/probe.py: "internal error in mdb_entry_decode", the unit could not be listed.
    assert sorted(m.name.full for m in services.mailboxes.store.search()
                  if m.unit_code == unit.code) == ["Trịnh Thị Hòa", "Trịnh Văn Khác"]


@pytest.mark.parametrize(("detail", "named"), [
    ("non-unique attributes found with (&(objectClass=inetOrgPerson)(|(employeeNumber=NV\\281\\29\\2a)))",
     ("Mã nhân sự NV(1)*", "the HR id NV(1)*")),
    ("non-unique attributes found with (|(mail=an@phuyen.gov.vn)(mailLocalAddress=an@phuyen.gov.vn))",
     ("Địa chỉ an@phuyen.gov.vn", "the address an@phuyen.gov.vn")),
    ("non-unique attributes found with (&(objectClass=inetOrgPerson)(|(employeeNumber=H\\c3\\b2a)))",
     ("Mã nhân sự Hòa", "the HR id Hòa"))])
def test_the_refusal_names_the_value_as_typed(detail: str, named: tuple[str, str]) -> None:
    error = error_for_result({"result": 19, "description": "constraintViolation", "message": detail}, "uid=x")
    assert isinstance(error, Conflict) and error.message.render("vi").startswith(named[0])
    assert error.message.render("en").startswith(named[1])
