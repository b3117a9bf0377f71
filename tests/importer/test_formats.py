"""Every shape of file HR sends: Excel CSVs, YAML lists, legacy encodings, hostile YAML."""

from __future__ import annotations

import unicodedata

import pytest

from mailadmin.errors import InvalidInput
from mailadmin.excel_csv import restore
from mailadmin.importer.columns import neutralise
from mailadmin.importer.export import template_csv
from mailadmin.importer.parse import guess_format, parse, parse_file

from .helpers import cp1258, csv_file

ROW = ["NV1", "Nguyễn Văn An", "STTTT", "Chuyên viên", "0257 3812345", "", "", ""]


def values(data: bytes, file_format: str = "csv") -> list[dict[str, str]]:
    return [row.values for row in parse(data, file_format, 1000)]


@pytest.mark.parametrize("bom", [True, False])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_or_without_bom_and_any_delimiter(bom: bool, delimiter: str) -> None:
    [row] = values(csv_file([ROW], delimiter=delimiter, bom=bom))
    assert row["hr_id"] == "NV1" and row["full_name"] == "Nguyễn Văn An" and row["phone"] == "0257 3812345"


def test_quoted_fields_keep_delimiters_quotes_and_line_breaks() -> None:
    data = csv_file([["NV1", 'Lê "Tí" Văn; Hai', "STTTT", "Trưởng phòng,\nkiêm kế toán"]], delimiter=";")
    [row] = values(data)
    assert row["full_name"] == 'Lê "Tí" Văn; Hai'
    assert row["title"] == "Trưởng phòng,\nkiêm kế toán"


def test_excel_sep_hint_line_and_line_numbers() -> None:
    text = "sep=;\r\nMã nhân sự;Họ tên;Đơn vị\r\nNV1;An;STTTT\r\n\r\nNV2;\"B\nC\";STTTT\r\nNV3;D;STTTT\r\n"
    rows = parse(text.encode(), "csv", 100)
    assert [(r.line, r.values["hr_id"]) for r in rows] == [(3, "NV1"), (5, "NV2"), (7, "NV3")]


def test_english_and_other_header_spellings() -> None:
    data = csv_file([["NV1", "An", "555", "x@phuyen.gov.vn"]], headers=["employee id", "Name", "unit code", "E-mail"])
    assert values(data) == [{"hr_id": "NV1", "full_name": "An", "unit": "555", "mail": "x@phuyen.gov.vn"}]


def test_unknown_columns_are_left_out_and_named_missing_ones_refuse_the_file() -> None:
    parsed = parse_file(csv_file([["NV1", "An", "555", "1"], ["NV2", "Bình", "555", ""]],
                                 headers=["HR id", "Full name", "Unit", "Salary"]), "csv", 10)
    assert parsed.ignored_columns == ("4 (Salary)",) and [row.extra for row in parsed.rows] == ["", ""]
    assert "salary" not in parsed.rows[0].values
    with pytest.raises(InvalidInput, match="missing columns: Unit"):
        parse(csv_file([["NV1", "An"]], headers=["HR id", "Full name"]), "csv", 10)


def test_template_parses_back_to_its_example_row() -> None:
    [row] = values(template_csv())
    assert row["hr_id"] == "NV0001" and row["unit"] == "STTTT"


def test_nfd_names_are_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Đào")
    [row] = values(csv_file([["NV1", nfd, "STTTT"]]))
    assert row["full_name"] == "Nguyễn Thị Đào" and unicodedata.is_normalized("NFC", row["full_name"])


@pytest.mark.parametrize(("data", "name"), [
    (cp1258("Mã nhân sự,Họ tên,Đơn vị\nNV1,Nguyễn Thị Bình,555\nNV2,Trần Văn Hùng,555\n"), "Windows-1258"),
    (b"HR id,Full name,Unit\nNV1,Nguye\xe3n Th\xf2 B\xecnh,555\nNV2,Tra\xe0n Va\xean Hu\xf9ng,555\n", "VNI"),
    (b"HR id,Full name,Unit\nNV1,Nguy\xd4n Th\xde B\xdcnh,555\nNV2,Tr\xc7n V\xa8n H\xf9ng,555\n", "TCVN3"),
    ("HR id,Full name,Unit\nNV1,Nguyễn An,555\n".encode("utf-16"), "UTF-16"),
])
def test_legacy_encodings_are_refused_by_name(data: bytes, name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(data, "csv", 10)
    assert name in refused.value.message.render("en")
    assert "UTF-8" in refused.value.message.render("vi")


def test_yaml_flat_list_nested_by_unit_and_people_key() -> None:
    flat = "- hr_id: NV1\n  full_name: An\n  unit: '555'\n  phone: 0905123456\n  aliases: [a, b]\n"
    nested = "units:\n  '555':\n    - {hr_id: NV1, full_name: An, phone: 0905123456, aliases: [a, b]}\n"
    people = "people:\n- {Mã nhân sự: NV1, Họ tên: An, Đơn vị: '555', Điện thoại: 0905123456, Bí danh: a b}\n"
    expected = {"hr_id": "NV1", "full_name": "An", "unit": "555", "phone": "0905123456", "aliases": "a b"}
    for text in (flat, nested, people):
        assert values(text.encode(), "yaml") == [expected]


def test_yaml_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\npeople: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    with pytest.raises(InvalidInput, match="alias"):
        parse(bomb.encode(), "yaml", 10)


def test_yaml_python_tags_are_not_constructed() -> None:
    with pytest.raises(InvalidInput):
        parse(b"- !!python/object/apply:os.system ['touch /tmp/pwned']\n", "yaml", 10)


def test_yaml_syntax_error_names_its_line() -> None:
    with pytest.raises(InvalidInput, match="line 3"):
        parse(b"- hr_id: NV1\n  full_name: An\n  unit: 555: x\n", "yaml", 10)


def test_row_limit_refuses_instead_of_truncating() -> None:
    data = csv_file([[f"NV{i}", "An", "555"] for i in range(11)])
    assert len(parse(data, "csv", 11)) == 11
    with pytest.raises(InvalidInput, match="more than 10 data rows"):
        parse(data, "csv", 10)


def test_formula_cells_are_neutralised_and_restored() -> None:
    for cell in ("=HYPERLINK(\"x\")", "+84 905", "-1", "@SUM(A1)", "plain", "'quoted"):
        assert restore(neutralise(cell)) == cell
    assert neutralise("=1+1") == "'=1+1" and neutralise("+84") == "'+84"


def test_format_is_guessed_from_the_name_or_content() -> None:
    assert guess_format("staff.YML", b"") == "yaml"
    assert guess_format("staff.csv", b"- a") == "csv"
    assert guess_format("-", b"- hr_id: 1\n") == "yaml"
    assert guess_format("-", "\ufeffMã".encode()) == "csv"
