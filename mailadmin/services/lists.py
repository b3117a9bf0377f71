"""Distribution lists: per-unit lists of a unit's staff and custom lists; membership follows moves."""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin.audit import AuditLog
from mailadmin.directory import filters
from mailadmin.directory.client import Entry
from mailadmin.directory.groups import GroupStore
from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.errors import Conflict, InvalidInput, NotFound
from mailadmin.i18n import t
from mailadmin.model import Mailbox, Status, Unit
from mailadmin.names import UNIT_LIST_PREFIX
from mailadmin.services.mailboxes import MailboxQuery, MailboxService
from mailadmin.services.units import UnitService
from mailadmin.validation import clean_local_part, clean_text


@dataclass(frozen=True)
class DistributionList:
    """A list as people see it."""

    name: str
    address: str
    unit_code: str
    description: str
    members: int


class ListService:
    """Create lists, add and remove members, read members (through memberOf, kept by the server)."""

    def __init__(self, groups: GroupStore, mailboxes: MailboxService, units: UnitService, audit: AuditLog) -> None:
        self.groups = groups
        self.mailboxes = mailboxes
        self.store: MailboxStore = mailboxes.store
        self.units = units
        self.audit = audit

    def _list(self, entry: Entry, unit: Unit) -> DistributionList:
        return DistributionList(entry.text("cn"), entry.text("mailLocalAddress"), unit.code,
                                entry.text("description"), len(entry.raw("member")))

    def _entry(self, unit: Unit, name: str) -> Entry:
        entry = self.groups.get(self.groups.dn_of(name, unit.path))
        if entry is None:
            raise NotFound(t("Không có danh sách {name} trong đơn vị {unit}", "no list {name} in unit {unit}",
                             name=name, unit=unit.code))
        return entry

    def home_unit(self) -> Unit:
        """Where list pages open for a reader of the whole tree: the province, root of the configured unit tree."""
        roots = self.units.index().children.get(None, [])  # sorted province first (services/units.KIND_ORDER)
        if not roots:
            raise NotFound(t("Chưa có đơn vị nào: hãy nạp danh sách đơn vị",
                             "there is no unit yet: load the unit list"))
        return roots[0]

    def in_unit(self, unit_code: str) -> list[DistributionList]:
        """The lists of a unit."""
        unit = self.units.get(unit_code)
        return sorted((self._list(e, unit) for e in self.groups.in_unit(unit.path)), key=lambda x: x.name)

    def get(self, unit_code: str, name: str) -> DistributionList:
        """One list."""
        unit = self.units.get(unit_code)
        return self._list(self._entry(unit, name), unit)

    def create(self, unit_code: str, name: str, description: str, member_uids: list[str]) -> DistributionList:
        """A custom list with at least one member; its address is <name>@domain."""
        return self._create(self.units.get(unit_code), clean_local_part(name, "name"), description, member_uids)

    def _create(self, unit: Unit, local: str, description: str, member_uids: list[str],
                unit_list: bool = False) -> DistributionList:
        if not member_uids:
            raise InvalidInput(t("Danh sách cần ít nhất một thành viên", "a list needs at least one member"), "members")
        if not self._free(local, unit_list):
            raise Conflict(t("Địa chỉ {mail} đã được dùng hoặc dành riêng", "the address {mail} is taken or reserved",
                             mail=f"{local}@{self.mailboxes.domain}"), "name")
        members = [self.store.find_entry(uid.strip().lower()).dn for uid in dict.fromkeys(member_uids)]
        address = f"{local}@{self.mailboxes.domain}"
        self.groups.add(self.groups.dn_of(local, unit.path), local, address, clean_text(description, "description"),
                        members)
        self.audit.record("list.create", address, after={"unit": unit.code, "members": len(members)})
        return self.get(unit.code, local)

    def _free(self, local: str, unit_list: bool) -> bool:
        if unit_list:  # the one place a unit-list (ds-) address is handed out: reserved for everyone else
            return local not in self.mailboxes.store.taken_local_parts(local, self.mailboxes.domain)
        return self.mailboxes.allocator().claim(local)

    def create_unit_list(self, unit_code: str) -> DistributionList:
        """The list of every active mailbox in a unit's subtree, named ds-<code>."""
        unit = self.units.get(unit_code)
        staff = [m.uid for m in self.mailboxes.find(_active_in(unit_code))]
        return self._create(unit, f"{UNIT_LIST_PREFIX}{unit.code.lower()}",
                            f"Toàn bộ cán bộ {unit.name} / all staff of {unit.name}", staff, unit_list=True)

    def members(self, unit_code: str, name: str) -> list[Mailbox]:
        """The list's members as mailboxes (found by memberOf, whatever unit they are in now)."""
        entry = self._entry(self.units.get(unit_code), name)
        return sorted(self.store.search(conditions=[filters.eq("memberOf", entry.dn)]),
                      key=lambda m: (m.name.given, m.name.family))

    def add_member(self, unit_code: str, name: str, uid: str) -> None:
        """Add a mailbox to a list."""
        entry = self._entry(self.units.get(unit_code), name)
        member = self.store.find_entry(uid.strip().lower())
        if member.dn.lower() in {value.lower() for value in entry.texts("member")}:
            return
        self.groups.add_members(entry.dn, [member.dn])
        self.audit.record("list.add_member", entry.text("mailLocalAddress"), after={"uid": member.text("uid")})

    def remove_member(self, unit_code: str, name: str, uid: str) -> None:
        """Remove a mailbox from a list (never the last member: a list is never empty)."""
        entry = self._entry(self.units.get(unit_code), name)
        member = self.store.find_entry(uid.strip().lower())
        if len(entry.raw("member")) <= 1:
            raise InvalidInput(t("Không thể xóa thành viên cuối cùng", "the last member cannot be removed"), "uid")
        self.groups.remove_member(entry.dn, member.dn)
        self.audit.record("list.remove_member", entry.text("mailLocalAddress"), before={"uid": member.text("uid")})


def _active_in(unit_code: str) -> MailboxQuery:
    return MailboxQuery(unit_code=unit_code, status=Status.ACTIVE)
