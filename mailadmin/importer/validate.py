"""Raw rows -> people, or per-row errors with line, column and a bilingual reason (pure)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TypeVar

from mailadmin.errors import MailadminError
from mailadmin.i18n import Text, t
from mailadmin.importer.columns import COLUMNS
from mailadmin.importer.decode import mojibake, mojibake_error
from mailadmin.importer.parse import RawRow
from mailadmin.importer.snapshot import Snapshot
from mailadmin.model import Mailbox, PersonName, Status, Unit
from mailadmin.names import (
    AddressAllocator,
    fold,
    held_local_parts,
    hr_id_key,
    local_part,
    normalize,
    search_key,
    split_name,
    strip_titles,
)
from mailadmin.services.mailboxes import claim_addresses
from mailadmin.validation import clean_address, clean_local_part, clean_person_name, clean_phone, clean_text

T = TypeVar("T")
_SEPARATORS = re.compile(r"[\s,;]+")
_PATH_SEPARATORS = re.compile(r"\s*[/>›]\s*")
_STATUS = {
    "active": Status.ACTIVE, "hoatdong": Status.ACTIVE, "dangsudung": Status.ACTIVE,
    "suspended": Status.SUSPENDED, "tamkhoa": Status.SUSPENDED, "khoa": Status.SUSPENDED,
    "retired": Status.RETIRED, "nghi": Status.RETIRED, "nghiviec": Status.RETIRED, "danghi": Status.RETIRED,
}


@dataclass(frozen=True, slots=True)
class Person:
    """A valid row: who, where, and the existing mailbox it matches (None: a new person)."""

    line: int
    hr_id: str
    name: PersonName
    unit: Unit
    title: str
    phone: str
    mail: str                  # wanted local part, "" to generate / keep
    aliases: tuple[str, ...]   # full addresses, sorted
    status: Status | None      # None: keep (new people: active)
    existing: Mailbox | None
    warnings: tuple[RowError, ...] = ()  # what the import changed in the row on its own


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a row cannot be imported."""

    line: int
    column: str
    field: str
    message: Text
    cells: dict[str, str] = dataclass_field(default_factory=dict, compare=False)  # who the row was about, as written

    def record(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"line": self.line, "column": self.column, "field": self.field,
                "error_vi": self.message.render("vi"), "error_en": self.message.render("en")}

    def warning(self) -> dict[str, object]:
        """Plain data for JSON output, when the row is imported all the same."""
        return {"line": self.line, "column": self.column, "field": self.field,
                "warning_vi": self.message.render("vi"), "warning_en": self.message.render("en")}


SHOWN_CELLS = ("hr_id", "full_name", "unit", "mail")


def _cells(row: RawRow) -> dict[str, str]:
    """The cells that tell an officer whom a refused row was about (for the preview and the results file)."""
    return {name: row.values.get(name, "").strip()[:200] for name in SHOWN_CELLS if row.values.get(name, "").strip()}


class _Invalid(Exception):
    def __init__(self, field: str, message: Text) -> None:
        super().__init__(message.render("en"))
        self.field, self.message = field, message


def validate(rows: list[RawRow], snapshot: Snapshot) -> tuple[list[Person], list[RowError]]:
    """Check every row against the rules, the directory snapshot and the rest of the file."""
    _refuse_mojibake_file(rows)
    repeated = _repeated_hr_ids(rows)
    people: list[Person] = []
    errors: list[RowError] = []
    book = AddressAllocator.of_holders(snapshot.holders(), snapshot.reserved)
    claimed: dict[str, int] = {}
    for row in rows:
        try:
            _single_hr_id(row, repeated)
            person = _person(row, snapshot)
            _claim_addresses(person, snapshot, book, claimed)
        except _Invalid as problem:
            column = row.columns.get(problem.field, "") if problem.field else row.extra
            errors.append(RowError(row.line, column, problem.field, problem.message, _cells(row)))
            continue
        people.append(person)
    return people, errors


def _person(row: RawRow, snapshot: Snapshot) -> Person:
    if row.extra:
        raise _Invalid("", t("Cột {c} có dữ liệu nhưng không có tiêu đề", "column {c} has data but no header",
                             c=row.extra))
    values = row.values
    hr_id = _field("hr_id", lambda: clean_text(values.get("hr_id", ""), "hr_id"))
    name, removed = _name(values.get("full_name", ""), snapshot)
    mail = _field("mail", lambda: _local_part(values.get("mail", ""), snapshot.domain))
    existing = _match(hr_id, mail, snapshot)
    unit, unit_note = _unit(values.get("unit", ""), snapshot, existing)
    if not hr_id and existing is None:  # only a mailbox that has no HR id yet may be named by its mail
        raise _Invalid("hr_id", t("Thiếu mã nhân sự", "the HR id is missing"))
    if not mail and existing is None:
        _field("full_name", lambda: local_part(name, snapshot.pattern))
    aliases = _field("aliases", lambda: tuple(sorted({clean_address(a, snapshot.domain, "aliases")
                                                      for a in _SEPARATORS.split(values.get("aliases", "")) if a})))
    person = Person(
        line=row.line, hr_id=hr_id, name=name, unit=unit,
        title=_field("title", lambda: clean_text(_readable(values.get("title", ""), "title"), "title")),
        phone=_field("phone", lambda: clean_phone(values.get("phone", ""))),
        mail=mail, aliases=aliases, status=_status(values.get("status", "")), existing=existing,
        warnings=_stripped_warning(row, name, removed) + _unit_warning(row, unit_note))
    _same_address(person, snapshot)
    return person


def _name(value: str, snapshot: Snapshot) -> tuple[PersonName, tuple[str, ...]]:
    """The person's name without honorifics and bracketed notes (and what was removed), or _Invalid."""
    text = _field("full_name", lambda: clean_text(_readable(value, "full_name"), "full_name", required=True))
    bare, removed = strip_titles(text)
    return _field("full_name", lambda: split_name(clean_person_name(bare), snapshot.name_order)), removed


def _readable(value: str, field: str) -> str:
    """The cell, unless it is mojibake (checked before anything else: it holds C1 control characters)."""
    fixed = mojibake(value)
    if fixed is not None:
        raise _Invalid(field, mojibake_error(value, fixed).message)
    return value


def _stripped_warning(row: RawRow, name: PersonName, removed: tuple[str, ...]) -> tuple[RowError, ...]:
    if not removed:
        return ()
    return (RowError(row.line, row.columns.get("full_name", ""), "full_name", t(
        "Đã bỏ {removed} khỏi họ tên: lưu là «{name}», địa chỉ tạo từ tên này",
        "removed {removed} from the name: stored as «{name}», the address is made from it",
        removed=", ".join(f"«{r}»" for r in removed), name=name.full)),)


def _refuse_mojibake_file(rows: list[RawRow]) -> None:
    """Most names garbled: the whole file was saved in the wrong encoding, refuse it as one."""
    garbled = [(row.values.get("full_name", ""), fixed) for row in rows
               if (fixed := mojibake(row.values.get("full_name", ""))) is not None]
    if garbled and len(garbled) * 2 > len(rows):
        raise mojibake_error(*garbled[0])


def _repeated_hr_ids(rows: list[RawRow]) -> dict[str, list[int]]:
    """HR id -> its lines, for the ids on more than one line of the file."""
    lines: dict[str, list[int]] = {}
    for row in rows:
        key = hr_id_key(row.values.get("hr_id", ""))
        if key:
            lines.setdefault(key, []).append(row.line)
    return {key: found for key, found in lines.items() if len(found) > 1}


def _single_hr_id(row: RawRow, repeated: dict[str, list[int]]) -> None:
    key = hr_id_key(row.values.get("hr_id", ""))
    if key in repeated:
        raise _Invalid("hr_id", t(
            "Mã nhân sự {id} có ở nhiều dòng ({lines}): không rõ dòng nào đúng, không nhập dòng nào trong số đó",
            "HR id {id} is on several lines ({lines}): the file is ambiguous, none of them is imported",
            id=normalize(row.values.get("hr_id", "")), lines=", ".join(map(str, repeated[key]))))


def _field(name: str, check: Callable[[], T]) -> T:
    try:
        return check()
    except MailadminError as error:
        raise _Invalid(name, error.message) from None


def _local_part(value: str, domain: str) -> str:
    text = value.strip()
    if not text:
        return ""
    return clean_local_part(clean_address(text, domain).split("@")[0])


def _unit(value: str, snapshot: Snapshot, existing: Mailbox | None) -> tuple[Unit, Text | None]:
    """A unit by code, by path of codes (54/555/22015) or by its exact name ("Sở Y tế"); a code or path from
    before a reorganisation gives the unit that took it over, with a note saying so."""
    segments = [s for s in _PATH_SEPARATORS.split(value.strip()) if s]
    if not segments:
        raise _Invalid("unit", t("Thiếu đơn vị", "the unit is missing"))
    units = snapshot.units
    unit = units.units.get(segments[-1])
    if unit is not None and _folded(segments) == _folded(unit.path[-len(segments):]):
        return unit, None
    if unit is not None and all(units.fate(code) for code in segments[:-1]):
        return unit, t("đường dẫn đơn vị {v} có từ trước khi sắp xếp lại: nay là {path}",
                       "the unit path {v} dates from before a reorganisation: now {path}", v=value.strip(),
                       path="/".join(unit.path))
    old_code = units.former_code(value.strip()) or (segments[-1] if unit is None else None)
    fate = units.fate(old_code) if old_code else None
    if old_code and fate is not None:
        return _successor(old_code, fate, snapshot, existing)
    return _unit_by_name(value.strip(), snapshot), None


def _folded(codes: Iterable[str]) -> tuple[str, ...]:
    """Codes as compared: unit codes ignore case."""
    return tuple(code.casefold() for code in codes)


def _successor(code: str, fate: Text, snapshot: Snapshot, existing: Mailbox | None) -> tuple[Unit, Text]:
    """The unit that now stands for an old code: the one an existing person already belongs to, or the only
    one that took the old unit over; a closed unit (staff sent to the holding unit) or a split is refused,
    naming the successors, since only HR can say where a person belongs now."""
    units = snapshot.units
    found = units.successors(code)
    current = next((unit for unit in found if existing is not None and existing.unit_code == unit.code), None)
    if current is None and len(found) == 1 and not units.was_closed(code):
        current = found[0]
    if current is None:
        raise _Invalid("unit", t("{vi}: hãy ghi mã đơn vị mới", "{en}: write the new unit's code",
                                 vi=fate.render("vi"), en=fate.render("en")))
    return current, t("{vi}: nhập vào {name} (mã {code})", "{en}: imported into {name} (code {code})",
                      vi=fate.render("vi"), en=fate.render("en"), name=current.name, code=current.code)


def _unit_warning(row: RawRow, note: Text | None) -> tuple[RowError, ...]:
    """The import read an old unit code or path as its successor: said on the row, which is imported."""
    return (RowError(row.line, row.columns.get("unit", ""), "unit", note, _cells(row)),) if note else ()


def _unit_by_name(value: str, snapshot: Snapshot) -> Unit:
    named = snapshot.units.by_name.get(search_key(value), [])
    if len(named) == 1:
        return named[0]
    if named:
        raise _Invalid("unit", t("Có {n} đơn vị tên {v}; hãy ghi mã đơn vị: {codes}",
                                 "{n} units are named {v}; write the unit code: {codes}", n=len(named), v=value,
                                 codes=", ".join(sorted(unit.code for unit in named))))
    near = difflib.get_close_matches(search_key(value), list(snapshot.units.by_name), n=1, cutoff=0.75)
    if near:
        unit = snapshot.units.by_name[near[0]][0]
        raise _Invalid("unit", t("Không có đơn vị {v}; có phải {name} (mã {code})?",
                                 "no unit {v}; did you mean {name} (code {code})?", v=value, name=unit.name,
                                 code=unit.code))
    raise _Invalid("unit", t("Không có đơn vị {v}", "no unit {v}", v=value))


def _status(value: str) -> Status | None:
    key = fold(value)
    if not key:
        return None
    if key not in _STATUS:
        raise _Invalid("status", t("Trạng thái không hợp lệ: {v} (hoạt động, tạm khóa, nghỉ)",
                                   "invalid status: {v} (active, suspended, retired)", v=value))
    return _STATUS[key]


def _match(hr_id: str, mail: str, snapshot: Snapshot) -> Mailbox | None:
    """The mailbox with this HR id; or the one with this address, if it has no HR id yet."""
    uid = snapshot.by_hr_id.get(hr_id_key(hr_id)) if hr_id else None
    if uid:
        return snapshot.mailboxes[uid]
    owner = snapshot.mailboxes.get(snapshot.owners.get(mail, "")) if mail else None
    return owner if owner is not None and not owner.hr_id else None


def _same_address(person: Person, snapshot: Snapshot) -> None:
    if person.existing and person.mail and person.mail != person.existing.uid:
        raise _Invalid("mail", t(
            "Đổi địa chỉ {old} thành {new} không làm qua tệp nhập; dùng mailbox move/rename",
            "changing the address {old} to {new} is not done by import", old=person.existing.mail,
            new=f"{person.mail}@{snapshot.domain}"))


def _claim_addresses(person: Person, snapshot: Snapshot, book: AddressAllocator, claimed: dict[str, int]) -> None:
    """The row's addresses: none asked for on an earlier line, and each one the person does not hold yet
    given by the mailbox service's rule (claim_addresses: held by another entry, reserved, a ds- unit list's).

    `book` and `claimed` (local part -> line) are the file's: what a row was given stays given, even if
    another of its addresses is refused.
    """
    wanted = _wanted(person, snapshot.domain)
    _unique_in_file(wanted, claimed)
    own = person.existing
    held = held_local_parts([own.uid], [own.mail, *own.aliases], snapshot.domain) if own else set()
    new = [address for address in wanted if _local(address) not in held]
    refused = claim_addresses(book, new, snapshot.domain, own.uid if own else "")
    taken = {address for address, _ in refused}
    claimed.update((_local(address), person.line) for address in wanted if address not in taken)
    for address, _ in refused[:1]:
        raise _Invalid(wanted[address], t("Địa chỉ {a} đã thuộc về người khác hoặc dành riêng",
                                          "the address {a} is taken by someone else or reserved", a=address))


def _wanted(person: Person, domain: str) -> dict[str, str]:
    """The full addresses a row asks for (its mail first, then its aliases) -> the field that asks."""
    wanted = {f"{person.mail}@{domain}": "mail"} if person.mail else {}
    for alias in person.aliases:
        wanted.setdefault(alias, "aliases")
    return wanted


def _local(address: str) -> str:
    return address.rpartition("@")[0]


def _unique_in_file(wanted: dict[str, str], claimed: dict[str, int]) -> None:
    for address, field in wanted.items():
        if _local(address) in claimed:
            raise _Invalid(field, t("Địa chỉ {a} đã dùng ở dòng {line}", "the address {a} is used on line {line}",
                                    a=address, line=claimed[_local(address)]))


def column_label(field: str) -> str:
    """'Đơn vị (Unit)' for messages about a field."""
    vi, en = COLUMNS.get(field, (field, field))
    return f"{vi} ({en})"
