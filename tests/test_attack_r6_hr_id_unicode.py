"""HR ids at import planning compare as slapd's employeeNumber does (caseIgnoreMatch on slapd 2.5: each character
lower-cased by its simple mapping as its Unicode tables know it, then compatibility decomposition), not as Python's
casefold. Where they disagreed, planning either merged two people slapd keeps apart (STRASSE updated the person
straße: another person's record overwritten) or planned a new person slapd then refused at apply (ＮＶ１２ and
NV12, İ and i). Each case asks the real slapd which mailboxes carry the row's HR id and checks planning agrees."""

from __future__ import annotations

import pytest

from mailadmin.directory import filters
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.importer.helpers import csv_file

# (HR id in the directory, HR id in the row): pairs where Python's casefold and slapd disagree, and controls.
PAIRS = [("STRAẞE", "strasse"), ("STRASSE", "straße"), ("İ1", "i1"), ("İ2", "i\u03072"), ("ＮＶ１２", "nv12"),
         ("①", "1"), ("Ǳ", "dz"), ("σ3", "ς3"), ("Ⓐ", "ⓐ"), ("NV-AbC", "nv-abc"), ("Ａ\u0301", "á"), ("ﬀ", "FF"),
         ("℡1", "tel1"), ("Ⴀ", "ⴀ"), ("Ꭰ", "ꭰ"), ("ϴ", "θ")]


def slapd_holders(services: Services, hr_id: str) -> list[str]:
    """The mailboxes slapd's own equality match finds for this HR id (the unique overlay's comparison)."""
    return [m.uid for m in services.mailboxes.store.search(conditions=[filters.eq("employeeNumber", hr_id)])]


@pytest.mark.parametrize(("stored", "typed"), PAIRS)
def test_planning_matches_an_existing_hr_id_as_slapd_does(services: Services, unit: Unit, stored: str,
                                                          typed: str) -> None:
    services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Trước", unit_code=unit.code, hr_id=f"{unit.code}{stored}"))
    same = bool(slapd_holders(services, f"{unit.code}{typed}"))
    preview = services.imports.preview(csv_file([[f"{unit.code}{typed}", "Trịnh Văn Trước", unit.code,
                                                  "Chuyên viên"]]), "staff.csv")
    counts = preview.plan.counts()
    assert (counts["update"], counts["create"]) == ((1, 0) if same else (0, 1)), (stored, typed, same)


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_two_rows_are_one_person_twice_exactly_when_slapd_says_so(services: Services, unit: Unit, first: str,
                                                                  second: str) -> None:
    services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Mẫu", unit_code=unit.code, hr_id=f"{unit.code}{first}"))
    same = bool(slapd_holders(services, f"{unit.code}{second}"))
    rows = [[f"{unit.code}X{first}", "Trịnh Thị Hòa", unit.code], [f"{unit.code}X{second}", "Trịnh Văn Hòa", unit.code]]
    preview = services.imports.preview(csv_file(rows), "staff.csv")
    refused = sorted(action.line for action in preview.plan.actions if action.error)
    assert refused == ([2, 3] if same else []), (first, second, same)
