"""Use cases on the unit tree: load the official list, look units up, rename, move."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mailadmin.audit import AuditLog
from mailadmin.directory import dit
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.units import UnitStore
from mailadmin.errors import InvalidInput, NotFound
from mailadmin.i18n import Text, t
from mailadmin.model import FormerUnit, Unit, UnitKind
from mailadmin.names import normalize, search_key
from mailadmin.validation import clean_unit_code

INDEX_TTL_SECONDS = 30.0  # how long a tree is kept on a server that stamps no entryCSN (nothing tells a change)
# Re-read anyway after this long: a unit entry deleted by hand behind one written later is not seen otherwise.
FALLBACK_SECONDS = 300.0
# Calls this close share one check (0.76 ms at 6,888 mailboxes): a page asks for the tree 1 to 6 times. A unit
# written elsewhere within this time of the last check shows at the first call after it.
CHECK_SECONDS = 0.1
KIND_ORDER = (UnitKind.PROVINCE, UnitKind.AGENCY, UnitKind.DISTRICT, UnitKind.COMMUNE, UnitKind.WARD,
              UnitKind.SPECIAL_ZONE)
V = TypeVar("V")


class Codes(Mapping[str, V]):
    """Values by unit code, matched as the directory matches codes: ou, maPredecessor and maSuccessor are
    caseIgnoreMatch (config/mailadmin.schema), so "abc1" names the unit ABC1 here as in an LDAP filter."""

    def __init__(self, items: Mapping[str, V] | None = None) -> None:
        self._items = dict(items or {})
        self._folded = {code.casefold(): code for code in self._items}

    def code(self, text: str) -> str | None:
        """The code as held (its case in the directory) for a code in any case; None if absent."""
        return text if text in self._items else self._folded.get(text.casefold())

    def __getitem__(self, text: str) -> V:
        code = self.code(text)
        if code is None:
            raise KeyError(text)
        return self._items[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class UnitIndex:
    """A snapshot of the tree: units by code and children by parent code."""

    units: Codes[Unit]
    children: dict[str | None, list[Unit]]
    former: Codes[FormerUnit] = field(default_factory=Codes)  # the history: units that no longer exist

    @classmethod
    def of(cls, units: Iterable[Unit], former: Iterable[FormerUnit] = ()) -> UnitIndex:
        by_code: dict[str, Unit] = {}
        children: dict[str | None, list[Unit]] = {}
        for unit in units:
            by_code[unit.code] = unit
            children.setdefault(unit.parent_code, []).append(unit)
        for siblings in children.values():  # a stable order, whatever order the directory returns
            siblings.sort(key=lambda unit: (KIND_ORDER.index(unit.kind), unit.code))
        return cls(Codes(by_code), children, Codes({unit.code: unit for unit in former}))

    @cached_property
    def taken_over_by(self) -> Codes[list[Unit]]:
        """Old code -> the units of the tree that took it over, whole or in part (their maPredecessor)."""
        found: dict[str, list[Unit]] = {}
        for unit in self.units.values():
            for code in unit.predecessors:
                if code.casefold() != unit.code.casefold():
                    found.setdefault(code.casefold(), []).append(unit)
        return Codes(found)

    def successors(self, code: str) -> list[Unit]:
        """The units of the tree that stand for an old code today: one for a merge or a rename, several for
        a split, the holding unit for a closed one (its history followed through later reorganisations)."""
        found: dict[str, Unit] = {}
        pending, seen = [code], set()
        while pending:
            current = pending.pop(0)
            if current.casefold() in seen:
                continue
            seen.add(current.casefold())
            if current.casefold() != code.casefold() and current in self.units:
                found.setdefault(self.units[current].code, self.units[current])
                continue
            former = self.former.get(current)
            pending += [former.successor] if former and former.successor else []
            pending += [unit.code for unit in self.taken_over_by.get(current, [])]
        return list(found.values())

    def former_code(self, text: str) -> str | None:
        """The code of the one former unit a code or a name (as people type it) names, if no living unit has it."""
        if text in self.units or search_key(text) in self.by_name:
            return None
        if text in self.former:
            return self.former[text].code
        named = [unit.code for unit in self.former.values() if search_key(unit.name) == search_key(text)]
        return named[0] if len(named) == 1 else None

    def was_closed(self, code: str) -> bool:
        """A former unit nobody took over: its staff went to the holding unit."""
        return code in self.former and code not in self.taken_over_by

    def fate(self, code: str) -> Text | None:
        """What became of a code that is no longer a unit of the tree (None: a code never seen)."""
        if code in self.units:
            return None
        found = self.successors(code)
        if not found:
            return None
        names = ", ".join(f"{unit.name} ({unit.code})" for unit in found)
        day = self._ended(code, found)
        if self.was_closed(code):
            return t("đơn vị {code} đã giải thể từ ngày {day}; cán bộ chuyển về {names}",
                     "the unit {code} was closed on {day}; its staff went to {names}", code=code, names=names,
                     day=_day(day))
        if self.continued_as(code) is not None:
            return t("đơn vị {code} đã đổi mã thành {names} từ ngày {day}",
                     "the unit {code} continued as (renamed to) {names} on {day}", code=code, names=names,
                     day=_day(day))
        return t("đơn vị {code} đã sáp nhập vào {names} từ ngày {day}",
                 "the unit {code} was merged into {names} on {day}", code=code, names=names, day=_day(day))

    def continued_as(self, code: str) -> Unit | None:
        """The unit that carries a former unit on under a new code (the reorganisation renamed its entry), if any.

        Its history entry looks like a merged unit's; the carrier is told apart as the reorganisation chose it
        (reorgplan._carrier): the successor did not take its own code over, and names this code first.
        """
        former = self.former.get(code)
        unit = self.units.get(former.successor) if former is not None else None
        if unit is None or not unit.predecessors:
            return None
        taken = [old.casefold() for old in unit.predecessors]
        return unit if unit.code.casefold() not in taken and taken[0] == code.casefold() else None

    def _ended(self, code: str, successors: list[Unit]) -> date | None:
        former = self.former.get(code)
        if former is not None and former.ended:
            return former.ended
        return next((unit.valid_from for unit in successors if unit.valid_from), None)

    @cached_property
    def by_name(self) -> dict[str, list[Unit]]:
        """Units by name as people type it (diacritics and case ignored); several where names repeat."""
        found: dict[str, list[Unit]] = {}
        for unit in self.units.values():
            found.setdefault(search_key(unit.name), []).append(unit)
        return found

    def get(self, code: str) -> Unit:
        """The unit with this code, or NotFound."""
        try:
            return self.units[code]
        except KeyError:
            fate = self.fate(code)
            if fate is not None:
                raise NotFound(t("Không có đơn vị mã {code}: {vi}", "no unit with code {code}: {en}", code=code,
                                 vi=fate.render("vi"), en=fate.render("en"))) from None
            raise NotFound(t("Không có đơn vị mã {code}", "no unit with code {code}", code=code)) from None

    def walk(self, parent: str | None = None) -> Iterator[Unit]:
        """Units depth-first in the list's order, from `parent`'s children down."""
        for unit in self.children.get(parent, []):
            yield unit
            yield from self.walk(unit.code)

    def subtree(self, code: str) -> list[Unit]:
        """The unit and every unit below it."""
        unit = self.get(code)
        return [unit, *self.walk(unit.code)]


@dataclass(frozen=True)
class SyncReport:
    """What loading the unit list changed (a dry run: would change), and the units of the list it left alone."""

    created: int
    renamed: int
    unchanged: int
    skipped: tuple[Text, ...] = ()
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {"created": self.created, "renamed": self.renamed, "unchanged": self.unchanged,
                "skipped": [{"vi": note.render("vi"), "en": note.render("en")} for note in self.skipped],
                "dry_run": self.dry_run}


@dataclass
class SyncPlan:
    """What a unit list asks of today's tree, decided unit by unit, parents first.

    The list may be older than a reorganisation applied since (scripts/run loads config/units.yaml at
    every start): a code in the history is never re-created, a unit is created below its parent where
    that parent stands today, and a unit a reorganisation defined keeps the name the plan gave it.
    """

    index: UnitIndex
    create: dict[str, Unit] = field(default_factory=dict)  # folded code -> the unit at its path in today's tree
    rename: list[tuple[Unit, str]] = field(default_factory=list)
    skipped: list[Text] = field(default_factory=list)
    unchanged: int = 0

    def add(self, unit: Unit) -> None:
        """Decide one unit of the list."""
        if unit.code in self.index.units:
            self._existing(self.index.units[unit.code], unit.name)
        elif unit.code in self.index.former or self.index.fate(unit.code) is not None:
            self.skipped.append(_not_recreated(unit.code, self.index.fate(unit.code)))
        elif (parent := self._parent_path(unit)) is not None:
            self.create[unit.code.casefold()] = replace(unit, path=(*parent, unit.code))
        else:
            self.skipped.append(t("đơn vị {code} ({name}) không được tạo: đơn vị cấp trên {parent} không còn trong cây",
                                  "the unit {code} ({name}) is not created: its parent {parent} is no longer in the "
                                  "tree", code=unit.code, name=unit.name, parent=unit.parent_code))

    def _existing(self, held: Unit, name: str) -> None:
        if held.name == name:
            self.unchanged += 1
        elif held.valid_from is not None:
            self.skipped.append(t("đơn vị {code} giữ tên {name} do đợt tổ chức lại ngày {day} đặt (danh sách ghi "
                                  "{listed}); đổi tên ở trang đơn vị nếu cần",
                                  "the unit {code} keeps the name {name} given by the reorganisation of {day} (the "
                                  "list says {listed}); rename it on its unit page if needed", code=held.code,
                                  name=held.name, day=_day(held.valid_from), listed=name))
        else:
            self.rename.append((held, name))

    def _parent_path(self, unit: Unit) -> tuple[str, ...] | None:
        """Where the unit's parent stands today (created earlier in this list, maybe); () for a top unit."""
        if unit.parent_code is None:
            return ()
        if unit.parent_code in self.index.units:
            return self.index.units[unit.parent_code].path
        new = self.create.get(unit.parent_code.casefold())
        return new.path if new is not None else None

    def report(self, dry_run: bool) -> SyncReport:
        """The counts and notes of this plan."""
        return SyncReport(len(self.create), len(self.rename), self.unchanged, tuple(self.skipped), dry_run)


def _not_recreated(code: str, fate: Text | None) -> Text:
    if fate is None:
        return t("đơn vị {code} đã kết thúc (lịch sử tổ chức lại); không tạo lại",
                 "the unit {code} has ended (reorganisation history); not re-created", code=code)
    return t("{vi}; không tạo lại", "{en}; not re-created", vi=fate.render("vi"), en=fate.render("en"))


class UnitService:
    """The unit tree as the directory holds it."""

    def __init__(self, client: DirectoryClient, audit: AuditLog) -> None:
        self.store = UnitStore(client)
        self.audit = audit
        self._index: UnitIndex | None = None
        self._newest = ""  # the newest change among the unit entries when the tree was read
        self._loaded_at = self._checked_at = 0.0
        self._lock = threading.Lock()

    def index(self) -> UnitIndex:
        """The tree, re-read as soon as a unit entry changed (in any process, through any server), else kept."""
        with self._lock:
            if self._index is None or self._stale():
                found = self.store.read_marked()
                self._index, self._newest = UnitIndex.of(found.units, found.former), found.newest
                self._loaded_at = self._checked_at = time.monotonic()
            return self._index

    def _stale(self) -> bool:
        """Whether the tree read may be out of date: a unit write since (one small search), or its age."""
        now = time.monotonic()
        if not self._newest:
            return now - self._loaded_at > INDEX_TTL_SECONDS
        if now - self._loaded_at > FALLBACK_SECONDS:
            return True
        if now - self._checked_at < CHECK_SECONDS:
            return False
        self._checked_at = now
        return self.store.changed_since(self._newest)

    def forget(self) -> None:
        """Drop the cached tree (after a write)."""
        with self._lock:
            self._index = None

    def get(self, code: str) -> Unit:
        """A unit by code, or NotFound."""
        return self.index().get(code)

    def sync(self, units: list[Unit], *, dry_run: bool = False) -> SyncReport:
        """Create missing units and rename changed ones (SyncPlan); never deletes, moves or revives anything."""
        plan = SyncPlan(UnitIndex.of(*self.store.read()))
        for unit in units:
            plan.add(unit)
        if not dry_run:
            self._write(plan)
        return plan.report(dry_run)

    def _write(self, plan: SyncPlan) -> None:
        created = list(plan.create.values())
        self.store.add_many(created)
        for unit in created:
            self.audit.record("unit.create", unit.code, after=unit_record(unit))
        for held, name in plan.rename:
            self.store.rename(held, name)
            self.audit.record("unit.rename", held.code, {"name": held.name}, {"name": name})
        self.forget()

    def rename(self, code: str, name: str) -> Unit:
        """Give a unit a new display name."""
        unit = self.get(code)
        new_name = normalize(name)
        if not new_name:
            raise InvalidInput(t("Tên đơn vị không được để trống", "the unit name must not be empty"), "name")
        self.store.rename(unit, new_name)
        self.audit.record("unit.rename", code, {"name": unit.name}, {"name": new_name})
        self.forget()
        return self.get(code)


def _day(day: date | None) -> str:
    return day.isoformat() if day else "?"


def unit_record(unit: Unit) -> dict[str, str]:
    """A unit as plain data for the audit log and JSON output."""
    return {"code": unit.code, "name": unit.name, "kind": unit.kind.value, "parent": unit.parent_code or ""}


def load_units_file(path: Path) -> list[Unit]:
    """The unit tree from a YAML file (config/units.yaml), parents before children."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(t("Không đọc được danh sách đơn vị {path}: {e}",
                             "cannot read the unit list {path}: {e}", path=path, e=exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise InvalidInput(t("{path}: cần khóa 'units' chứa một danh sách",
                             "{path}: expected a key 'units' holding a list", path=path))
    units: list[Unit] = []
    _collect(data["units"], (), units, path)
    codes = [unit.code.casefold() for unit in units]  # codes ignore case, as the directory compares them
    duplicates = sorted({unit.code for unit in units if codes.count(unit.code.casefold()) > 1})
    if duplicates:
        raise InvalidInput(t("{path}: mã đơn vị trùng: {codes}", "{path}: duplicate unit codes: {codes}",
                             path=path, codes=", ".join(duplicates)))
    return units


def _collect(items: list[Any], parent: tuple[str, ...], out: list[Unit], path: Path) -> None:
    for item in items:
        if not isinstance(item, dict):
            raise InvalidInput(t("{path}: mỗi đơn vị phải là một bảng", "{path}: each unit must be a mapping",
                                 path=path))
        code = clean_unit_code(str(item.get("code", "")))
        if code in dit.RESERVED_UNIT_CODES:
            raise InvalidInput(t("{path}: mã {code} dành riêng cho hệ thống",
                                 "{path}: the code {code} is reserved", path=path, code=code))
        try:
            kind = UnitKind(str(item.get("kind")))
        except ValueError:
            raise InvalidInput(t("{path}: đơn vị {code} có loại không hợp lệ: {kind}",
                                 "{path}: unit {code} has an invalid kind: {kind}",
                                 path=path, code=code, kind=item.get("kind"))) from None
        name = normalize(str(item.get("name") or ""))
        if not name:
            raise InvalidInput(t("{path}: đơn vị {code} thiếu tên", "{path}: unit {code} has no name",
                                 path=path, code=code))
        unit = Unit(code=code, name=name, kind=kind, path=(*parent, code))
        out.append(unit)
        _collect(item.get("children") or [], unit.path, out, path)
