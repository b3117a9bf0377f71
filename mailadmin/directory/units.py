"""Units in the directory: organizationalUnit + maUnit entries forming the tree."""

from __future__ import annotations

from dataclasses import dataclass

from ldap3.utils.conv import escape_filter_chars

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mapping import UNIT_ATTRIBUTES, former_unit_from_entry, unit_attributes, unit_from_entry
from mailadmin.errors import Conflict
from mailadmin.i18n import t
from mailadmin.model import FormerUnit, Unit
from mailadmin.names import search_key

# slapd stamps every write (add, modify, rename, move) of an entry with a Change Sequence Number, ordered
# in time: the newest one among the unit entries says whether the tree changed, whoever wrote it.
CHANGE_ATTRIBUTE = "entryCSN"


@dataclass(frozen=True)
class UnitRead:
    """The tree and its history as read, with the newest change among their entries ('' where the
    server keeps no entryCSN: then nothing tells a later change)."""

    units: list[Unit]
    former: list[FormerUnit]
    newest: str


class UnitStore:
    """Reads and writes unit entries."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    def all(self) -> list[Unit]:
        """Every unit, parents before children."""
        return self.read()[0]

    def read(self) -> tuple[list[Unit], list[FormerUnit]]:
        """Every unit of the tree (parents before children) and every former unit of the history, in one search."""
        found = self.read_marked()
        return found.units, found.former

    def read_marked(self) -> UnitRead:
        """The tree and its history with the newest change among them, in one search."""
        entries = self.client.search(self.base_dn, filters.eq("objectClass", "maUnit"),
                                     attributes=(*UNIT_ATTRIBUTES, CHANGE_ATTRIBUTE))
        units, former = [], []
        for entry in entries:
            if dit.is_former_unit(entry.dn, self.base_dn):
                former.append(former_unit_from_entry(entry))
            else:
                units.append(unit_from_entry(entry, self.base_dn))
        newest = max((entry.text(CHANGE_ATTRIBUTE) for entry in entries), default="")
        return UnitRead(sorted(units, key=lambda unit: unit.depth), former, newest)

    def changed_since(self, newest: str) -> bool:
        """Whether a unit entry was added, changed, renamed or moved after the change `newest` marks, or that
        entry is gone: one indexed search (objectClass) answering the entries stamped at or after it, in an
        unchanged directory only that one. A unit entry deleted while a later-written one stays is not seen."""
        at_least = f"({CHANGE_ATTRIBUTE}>={escape_filter_chars(newest)})"
        found = self.client.search(self.base_dn, filters.all_of(filters.eq("objectClass", "maUnit"), at_least),
                                   attributes=[CHANGE_ATTRIBUTE])
        return not found or any(entry.text(CHANGE_ATTRIBUTE) != newest for entry in found)

    def add(self, unit: Unit) -> None:
        """Create a unit below its parent (which must exist), unless its code is taken (in any case)."""
        self.refuse_taken(unit.code)
        self.client.add(dit.unit_dn(unit.path, self.base_dn), unit_attributes(unit))

    def refuse_taken(self, code: str) -> None:
        """Conflict when a unit of the tree or of the history has this code, as the server compares codes.

        The directory, not a tree read earlier, decides: another process may have written the unit since,
        and the server matches ou with caseIgnoreMatch, so abc1 finds ABC1 below any parent.
        """
        found = self.client.search(self.base_dn, filters.all_of(filters.eq("objectClass", "maUnit"),
                                                                filters.eq("ou", code)), attributes=["ou"])
        for entry in found:
            if dit.is_former_unit(entry.dn, self.base_dn):
                raise Conflict(t("Mã {code} là mã của đơn vị cũ {taken} (đã giải thể hoặc sáp nhập), không dùng lại",
                                 "the code {code} belongs to the former unit {taken} (closed or merged away) and "
                                 "is not reused", code=code, taken=dit.unit_path_of(entry.dn, self.base_dn)[-1]),
                               "code")
            raise Conflict(t("Đã có đơn vị mã {taken}: mã đơn vị không phân biệt chữ hoa, chữ thường ({code})",
                             "a unit with code {taken} exists: unit codes ignore upper and lower case ({code})",
                             code=code, taken=dit.unit_path_of(entry.dn, self.base_dn)[-1]), "code")

    def add_many(self, units: list[Unit]) -> None:
        """Create many units, pipelined one level at a time (a child needs its parent written)."""
        for depth in sorted({unit.depth for unit in units}):
            failures = self.client.add_many(
                (dit.unit_dn(unit.path, self.base_dn), unit_attributes(unit))
                for unit in units if unit.depth == depth)
            if failures:
                raise failures[0].error

    def rename(self, unit: Unit, name: str) -> None:
        """Change a unit's display name (its code and DN stay)."""
        self.client.modify(dit.unit_dn(unit.path, self.base_dn), {
            "displayName": ("replace", [name]), "maSearchName": ("replace", [search_key(name)])})

    def move(self, unit: Unit, new_parent: Unit) -> None:
        """Move a unit with its whole subtree (mailboxes included) below another unit."""
        self.client.move(dit.unit_dn(unit.path, self.base_dn), dit.rdn("ou", unit.code),
                         dit.unit_dn(new_parent.path, self.base_dn))
