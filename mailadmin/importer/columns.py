"""The columns of an import file: names in Vietnamese and English, and spreadsheet cell safety."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mailadmin.errors import InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.names import fold

# Field -> (Vietnamese header, English header) in the template and in exports, in this order.
COLUMNS: dict[str, tuple[str, str]] = {
    "hr_id": ("Mã nhân sự", "HR id"),
    "full_name": ("Họ tên", "Full name"),
    "unit": ("Đơn vị", "Unit"),
    "title": ("Chức danh", "Title"),
    "phone": ("Điện thoại", "Phone"),
    "mail": ("Thư điện tử", "Mail"),
    "aliases": ("Bí danh", "Aliases"),
    "status": ("Trạng thái", "Status"),
}
REQUIRED = ("hr_id", "full_name", "unit")
# Other spellings people put in headers, folded (no diacritics, no spaces, lower case).
_SYNONYMS = {
    "hr_id": ("manhansu", "hrid", "manv", "employeeid", "employeenumber", "id"),
    "full_name": ("hoten", "hovaten", "fullname", "name", "ten"),
    "unit": ("donvi", "madonvi", "unit", "unitcode", "unitpath"),
    "title": ("chucdanh", "chucvu", "title"),
    "phone": ("dienthoai", "sodienthoai", "sdt", "phone", "telephone"),
    "mail": ("thudientu", "diachithu", "email", "mail"),
    "aliases": ("bidanh", "aliases", "alias"),
    "status": ("trangthai", "status"),
}
_BY_NAME = {name: field for field, names in _SYNONYMS.items() for name in names}
# Unknown columns a warning names (a file may have 100,000), and the characters shown of each name.
SHOWN_IGNORED = 20
SHOWN_NAME = 40
# Excel and LibreOffice run a cell beginning with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def header_labels() -> list[str]:
    """The template's header row: 'Mã nhân sự (HR id)', …"""
    return [f"{vi} ({en})" for vi, en in COLUMNS.values()]


def field_of(header: str) -> str | None:
    """The field a header names, in any accepted spelling ('Họ tên (Full name)', 'email'…)."""
    text = header.strip().lstrip("\ufeff")
    pieces = [text, *text.replace(")", "(").replace("/", "(").split("(")]
    for piece in pieces:
        key = fold(piece)
        if key in _BY_NAME:
            return _BY_NAME[key]
    return None


def map_headers(headers: list[str], ignored: list[str] | None = None) -> dict[int, str]:
    """Column index -> field; duplicate or missing columns are refused with their names.

    HR exports carry columns of their own ("STT", "Ngày sinh"): an unknown column is left out and
    named in `ignored` as 'position (name)', every one of them (the preview warns about them: ignored_note,
    ignored_summary) instead of refusing the whole file.
    """
    mapping: dict[int, str] = {}
    unknown: list[tuple[int, str]] = []
    for index, header in enumerate(headers):
        if not header.strip():
            continue
        field = field_of(header)
        if field is None:
            unknown.append((index, header))
            continue
        if field in mapping.values():
            raise InvalidInput(t("Cột {name} lặp lại", "the column {name} appears twice", name=header), header)
        mapping[index] = field
    (ignored if ignored is not None else []).extend(f"{index + 1} ({_shortened(header.strip())})"
                                                    for index, header in unknown)
    missing = [COLUMNS[field] for field in REQUIRED if field not in mapping.values()]
    if missing:
        raise InvalidInput(t("Thiếu cột: {vi}", "missing columns: {en}",
                             vi=", ".join(vi for vi, _ in missing), en=", ".join(en for _, en in missing)))
    return mapping


def ignored_note(ignored: Sequence[str]) -> Text:
    """The first SHOWN_IGNORED unknown columns ('position (name)'), then how many more, each language on its own."""
    named = ", ".join(ignored[:SHOWN_IGNORED])
    more = len(ignored) - SHOWN_IGNORED
    if more <= 0:
        return t("{names}", "{names}", names=named)
    return t("{names} … và {more} cột khác", "{names} … and {more} more", names=named, more=more)


def ignored_summary(ignored: Sequence[str]) -> dict[str, Any]:
    """The unknown columns for machine-readable output: how many, and the first SHOWN_IGNORED."""
    return {"count": len(ignored), "first": list(ignored[:SHOWN_IGNORED])}


def _shortened(name: str) -> str:
    return name if len(name) <= SHOWN_NAME else name[:SHOWN_NAME - 1] + "…"


def neutralise(cell: str) -> str:
    """A cell Excel shows as text: a leading ' before = + - @ (formula injection)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


