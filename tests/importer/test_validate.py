"""Each validation error names its row, its column and a reason in Vietnamese and English."""

from __future__ import annotations

import pytest

from mailadmin.importer.parse import parse
from mailadmin.importer.plan import Outcome, make_plan
from mailadmin.importer.validate import validate

from .helpers import csv_file, mailbox, snapshot

EXISTING = snapshot(mailbox("annv", "Nguyễn Văn An", hr_id="NV1"), others={"vanthu"})


def errors_of(*row: str) -> list[tuple[int, str, str, str]]:
    padded = [*row, *[""] * (8 - len(row))]
    rows = parse(csv_file([["NV0", "Good Person", "555"], padded]), "csv", 100)
    people, errors = validate(rows, EXISTING)
    assert [p.hr_id for p in people] == ["NV0"]  # the good row is never held back
    return [(e.line, e.column, e.message.render("vi"), e.message.render("en")) for e in errors]


@pytest.mark.parametrize(("row", "column", "english"), [
    (("", "Trần Bình", "555"), "1", "HR id is missing"),
    (("NV9", "", "555"), "2", "full name is missing"),
    (("NV9", "Trần Bình", ""), "3", "unit is missing"),
    (("NV9", "Trần Bình", "999"), "3", "no unit 999"),
    (("NV9", "Trần Bình", "54/STTTT/22015"), "3", "no unit 54/STTTT/22015"),
    (("NV9", "Trần Bình", "555", "", "", "tran binh@phuyen.gov.vn"), "6", "invalid local part"),
    (("NV9", "Trần Bình", "555", "", "", "binh@gmail.com"), "6", "not in the domain"),
    (("NV9", "Trần Bình", "555", "", "", "annv"), "6", "taken by someone else"),
    (("NV9", "Trần Bình", "555", "", "", "vanthu@phuyen.gov.vn"), "6", "taken by someone else"),
    (("NV9", "Trần Bình", "555", "", "", "postmaster"), "6", "reserved"),
    (("NV9", "Trần Bình", "555", "", "", "", "annv@phuyen.gov.vn"), "7", "taken by someone else"),
    (("NV9", "Trần Bình", "555", "", "", "ds-555"), "6", "reserved"),  # a unit list's address (ds-<unit>)
    (("NV9", "Trần Bình", "555", "", "", "", "ds-stttt@phuyen.gov.vn"), "7", "reserved"),
    (("NV9", "Trần Bình", "555", "", "", "", "binh@phuyen.gov.vn abuse"), "7", "reserved"),
    (("NV9", "Trần " + "B" * 200, "555"), "2", "longer than 128"),
    (("NV9", "Trần\x07Bình", "555"), "2", "control characters"),
    (("NV9", "Trần Bình", "555", "Chuyên viên\u200b"), "4", "control characters"),
    (("NV9", "Trần Bình", "555", "", "12"), "5", "invalid phone"),
    (("NV9", "Trần Bình", "555", "", "", "", "", "vacation"), "8", "invalid status"),
    (("NV9", "Trần Bình", "555", "", "", "", "", "", "extra"), "9", "column 9 has data but no header"),
])
def test_each_error_names_row_column_and_reason(row: tuple[str, ...], column: str, english: str) -> None:
    [(line, col, vietnamese, message)] = errors_of(*row)
    assert (line, col) == (3, column)
    assert english in message
    assert vietnamese and vietnamese != message


def test_duplicates_within_the_file_refuse_every_row_of_an_hr_id_and_point_at_the_first_address() -> None:
    rows = parse(csv_file([["NV5", "A B", "555", "", "", "ab"], ["NV5", "C D", "555"],
                           ["NV6", "E F", "555", "", "", "ab"], ["NV7", "G H", "555", "", "", "ab"]]), "csv", 100)
    people, errors = validate(rows, EXISTING)
    assert [p.line for p in people] == [4]
    ambiguous = "HR id NV5 is on several lines (2, 3): the file is ambiguous, none of them is imported"
    assert [(e.line, e.message.render("en")) for e in errors] == [
        (2, ambiguous), (3, ambiguous), (5, "the address ab@phuyen.gov.vn is used on line 4")]


def test_changing_an_address_is_refused_not_silently_applied() -> None:
    [(line, column, _, message)] = errors_of("NV1", "Nguyễn Văn An", "STTTT", "", "", "annv2")
    assert (line, column) == (3, "6") and "changing the address" in message


def test_all_or_nothing_data_error_rows_appear_in_the_plan_in_file_order() -> None:
    rows = parse(csv_file([["NV7", "Lê Tám", "555"], ["", "X", "555"], ["NV8", "Lê Chín", "999"]]), "csv", 100)
    plan = make_plan(*validate(rows, EXISTING), EXISTING)
    assert [(a.line, a.outcome) for a in plan.actions] == [
        (2, Outcome.CREATE), (3, Outcome.ERROR), (4, Outcome.ERROR)]


def test_an_existing_person_keeps_the_addresses_it_holds_even_reserved_ones() -> None:
    """A re-imported export: the mailbox's own uid and aliases are no new claim (the mailbox service's rule)."""
    held = snapshot(mailbox("thuky", "Lê Thư Ký", hr_id="NV3", aliases=("abuse@phuyen.gov.vn", "ds-old@phuyen.gov.vn")))
    rows = parse(csv_file([["NV3", "Lê Thư Ký", "STTTT", "", "", "thuky",
                            "abuse@phuyen.gov.vn, ds-old@phuyen.gov.vn, lethuky@phuyen.gov.vn"]]), "csv", 100)
    people, errors = validate(rows, held)
    assert not errors and people[0].aliases == ("abuse@phuyen.gov.vn", "ds-old@phuyen.gov.vn",
                                                "lethuky@phuyen.gov.vn")


def test_an_address_asked_for_twice_is_given_once_even_when_the_first_row_is_refused() -> None:
    """Row 2 asks for moi@ (free) and vanthu@ (another entry's): refused; row 3 asks for moi@ again, which
    the file already gave to line 2, so it names that line rather than being imported in its place."""
    rows = parse(csv_file([["NV5", "A B", "555", "", "", "moi", "vanthu@phuyen.gov.vn"],
                           ["NV6", "C D", "555", "", "", "moi"], ["NV7", "E F", "555", "", "", "", "moi"]]),
                 "csv", 100)
    people, errors = validate(rows, EXISTING)
    assert not people
    assert [(e.line, e.column, e.message.render("en")) for e in errors] == [
        (2, "7", "the address vanthu@phuyen.gov.vn is taken by someone else or reserved"),
        (3, "6", "the address moi@phuyen.gov.vn is used on line 2"),
        (4, "7", "the address moi@phuyen.gov.vn is used on line 2")]


def test_a_new_person_may_name_its_own_address_as_an_alias_too() -> None:
    rows = parse(csv_file([["NV5", "A B", "555", "", "", "ab", "ab@phuyen.gov.vn"]]), "csv", 100)
    people, errors = validate(rows, EXISTING)
    assert not errors and people[0].mail == "ab"
