"""Builders for import tests: files in every shape HR sends, and a directory snapshot without I/O."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence

from mailadmin.importer.columns import header_labels
from mailadmin.importer.snapshot import Snapshot
from mailadmin.model import Mailbox, Unit, UnitKind
from mailadmin.names import split_name
from mailadmin.services.units import UnitIndex

DOMAIN = "phuyen.gov.vn"
UNITS = [Unit("54", "Tỉnh Phú Yên", UnitKind.PROVINCE, ("54",)),
         Unit("STTTT", "Sở Thông tin và Truyền thông", UnitKind.AGENCY, ("54", "STTTT")),
         Unit("555", "Thành phố Tuy Hòa", UnitKind.DISTRICT, ("54", "555")),
         Unit("22015", "Phường 9", UnitKind.COMMUNE, ("54", "555", "22015"))]


def csv_file(rows: Sequence[Sequence[str]], *, headers: Sequence[str] | None = None, delimiter: str = ",",
             bom: bool = True, newline: str = "\r\n") -> bytes:
    """A CSV as Excel writes it (BOM, CRLF) unless told otherwise."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(headers or header_labels()[:max((len(r) for r in rows), default=8)])
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def mailbox(uid: str, name: str, unit: str = "STTTT", hr_id: str = "", **fields: object) -> Mailbox:
    """An existing mailbox for a snapshot."""
    tier = next(u for u in UNITS if u.code == unit).tier
    return Mailbox(uid=uid, name=split_name(name), mail=f"{uid}@{DOMAIN}", unit_code=unit, tier=tier,
                   hr_id=hr_id, **fields)  # type: ignore[arg-type]


def snapshot(*mailboxes: Mailbox, others: set[str] | None = None) -> Snapshot:
    """The directory as planning sees it, built by hand."""
    return Snapshot.of(UnitIndex.of(UNITS), list(mailboxes), others or set(), DOMAIN, "{given}{initials}",
                       ("postmaster", "admin", "abuse"))


def cp1258(text: str) -> bytes:
    """Text as Windows-1258 writes it: base letters precomposed, tone marks as combining bytes."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
                   + "".join(c for c in parts if c in tones))
    return "".join(out).encode("cp1258")


def spelled(value: object) -> str:
    """Digits as letters (0 -> a, 1 -> b…): a word a person's name may hold, unique per number ('T12' -> 'Tbc')."""
    return "".join(chr(ord("a") + int(ch)) if ch.isdigit() else ch for ch in str(value))
