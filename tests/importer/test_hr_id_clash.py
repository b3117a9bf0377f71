"""HR ids compare without case, as slapd's employeeNumber does: two rows whose HR ids differ only in case are one
person twice (refused at planning, naming the lines), a row naming an existing person's HR id in another case
updates that person, and a clash planning cannot see (someone created that person meanwhile) is refused at apply
for that row alone, naming the HR id in both languages instead of the directory's raw words."""

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


def imported(services: Services, monkeypatch: pytest.MonkeyPatch, source: Path, *extra: str) -> dict[str, object]:
    result = invoke(services, monkeypatch, "import", str(source), "--json", *extra)
    assert result.exit_code == 2, result.output  # a row refused
    return json.loads(result.stdout)


def test_two_rows_whose_hr_ids_differ_in_case_are_refused_at_planning(services: Services, unit: Unit,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    hr_id = f"{unit.code}-HOA"
    source = tmp_path / "staff.csv"
    source.write_bytes(clashing_file(unit, hr_id))
    preview = services.imports.preview(source.read_bytes(), source.name)
    problems = {action.line: action.error.message.render("en") for action in preview.plan.actions if action.error}
    assert sorted(problems) == [2, 3] and all("several lines (2, 3)" in text for text in problems.values())
    assert preview.plan.counts()["create"] == 1  # the third row


def test_a_row_naming_an_existing_hr_id_in_another_case_updates_that_person(services: Services, unit: Unit) -> None:
    services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Trước", unit_code=unit.code, hr_id=f"{unit.code}-TRUOC"))
    preview = services.imports.preview(csv_file([[f"{unit.code}-truoc", "Trịnh Văn Trước", unit.code,
                                                  "Chuyên viên"]]), "staff.csv")
    assert preview.plan.counts()["create"] == 0 and preview.plan.counts()["update"] == 1


@pytest.mark.parametrize("first_ever", [False, True], ids=["directory-in-use", "new-directory"])
def test_an_hr_id_taken_meanwhile_is_a_conflict_naming_it(first_ever: bool, services: Services, unit: Unit,
                                                          fresh_directory: RunningDirectory) -> None:
    """An officer creates the person on the web between the import's preview and its apply. On a new directory
    (its first HR ids) the aborted batch left slapd 2.5.13 entries it could not decode until directory/probe.py."""
    services = fresh_directory.services if first_ever else services
    unit = make_agency(services, "H", "Đơn vị nhập") if first_ever else unit
    hr_id = f"{unit.code}-HOA"
    rows = [[f"{unit.code}-KHAC", "Trịnh Văn Khác", unit.code], [hr_id.lower(), "Trịnh Thị Hòa", unit.code]]
    job = services.imports.start(services.imports.preview(csv_file(rows), "staff.csv"))
    services.mailboxes.add(NewMailbox(full_name="Trịnh Thị Mỹ Hòa", unit_code=unit.code, hr_id=hr_id))
    summary = services.imports.apply(job)
    [failed] = summary["failed"]
    clash = hr_id.lower()  # as the refused row wrote it
    assert failed["line"] == 3 and failed["hr_id"] == clash
    assert f"Mã nhân sự {clash} đã thuộc về" in failed["error"]
    assert f"the HR id {clash} already belongs" in failed["error"]
    assert sorted(m.name.full for m in services.mailboxes.store.search() if m.unit_code == unit.code) == [
        "Trịnh Thị Mỹ Hòa", "Trịnh Văn Khác"]


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
