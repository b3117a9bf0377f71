"""Export of a unit subtree to CSV or YAML that imports back with nothing to do."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import yaml
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from mailadmin.excel_csv import excel_csv
from mailadmin.importer.columns import COLUMNS, header_labels, neutralise
from mailadmin.model import Mailbox


def mailbox_row(mailbox: Mailbox) -> dict[str, str]:
    """A mailbox as the import columns hold it."""
    return {"hr_id": mailbox.hr_id, "full_name": mailbox.name.full, "unit": mailbox.unit_code,
            "title": mailbox.title, "phone": mailbox.phone, "mail": mailbox.mail,
            "aliases": " ".join(sorted(mailbox.aliases)), "status": mailbox.status.value}


def export_csv(mailboxes: Iterable[Mailbox]) -> bytes:
    """UTF-8 with BOM, template headers, cells Excel shows as text (mailadmin.excel_csv)."""
    rows = ([mailbox_row(mailbox)[name] for name in COLUMNS] for mailbox in mailboxes)
    return excel_csv([header_labels(), *rows])


def export_xlsx(mailboxes: Iterable[Mailbox]) -> bytes:
    """An Excel workbook with the template headers; every cell is text (never a formula, a date or a number)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Hộp thư")
    sheet.append([_text_cell(sheet, label) for label in header_labels()])
    for mailbox in mailboxes:
        row = mailbox_row(mailbox)
        sheet.append([_text_cell(sheet, neutralise(row[name])) for name in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would store "=…" as a formula and "0257…" may be read as a number
    cell.number_format = "@"
    return cell


def export_yaml(mailboxes: Iterable[Mailbox]) -> bytes:
    """`units: {CODE: [people]}`, empty fields left out, aliases as a list."""
    units: dict[str, list[dict[str, object]]] = {}
    for mailbox in mailboxes:
        row: dict[str, object] = {k: v for k, v in mailbox_row(mailbox).items() if v and k != "unit"}
        if mailbox.aliases:
            row["aliases"] = sorted(mailbox.aliases)
        units.setdefault(mailbox.unit_code, []).append(row)
    return yaml.safe_dump({"units": units}, allow_unicode=True, sort_keys=False).encode("utf-8")


def template_csv() -> bytes:
    """The empty template HR fills in: headers and one example row."""
    example = ["NV0001", "Nguyễn Văn An", "STTTT", "Chuyên viên", "0257 3812345", "", "", "active"]
    return excel_csv([header_labels(), example])
