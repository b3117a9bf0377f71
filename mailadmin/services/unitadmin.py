"""Changing the unit tree from the web admin: create and move units, appoint unit administrators."""

from __future__ import annotations

from mailadmin.audit import AuditLog
from mailadmin.directory import dit, filters
from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.directory.roles import RoleStore
from mailadmin.errors import Conflict, InvalidInput
from mailadmin.i18n import t
from mailadmin.model import Role, Unit, UnitKind
from mailadmin.names import normalize
from mailadmin.services.units import UnitService, unit_record
from mailadmin.validation import clean_unit_code


class UnitAdminService:
    """Create, move and delegate units; every change is audited."""

    def __init__(self, units: UnitService, mailboxes: MailboxStore, roles: RoleStore, audit: AuditLog) -> None:
        self.units = units
        self.mailboxes = mailboxes
        self.roles = roles
        self.audit = audit

    def create(self, code: str, name: str, kind: UnitKind, parent_code: str) -> Unit:
        """A new unit below an existing one."""
        code = self._new_code(code)
        clean_name = normalize(name)
        if not clean_name:
            raise InvalidInput(t("Tên đơn vị không được để trống", "the unit name must not be empty"), "name")
        parent = self.units.get(parent_code)
        unit = Unit(code=code, name=clean_name, kind=kind, path=(*parent.path, code))
        self.units.store.add(unit)
        self.units.forget()
        self.audit.record("unit.create", code, after=unit_record(unit))
        return unit

    def _new_code(self, code: str) -> str:
        """The cleaned code of a unit to create: not reserved, not a unit's, not one a reorganisation ended.

        An ended code still leads somewhere (HR rows and pages naming it go to its successor): a new
        unit given it would take that over and hide its history.
        """
        code = clean_unit_code(code)
        if code.casefold() in dit.RESERVED_UNIT_CODES:  # the tree's ou=system / ou=policies, in any case
            raise InvalidInput(t("Mã {code} dành riêng cho hệ thống", "the code {code} is reserved", code=code), "code")
        index = self.units.index()
        if code in index.units:
            raise Conflict(t("Đã có đơn vị mã {code}", "a unit with code {code} exists",
                             code=index.units[code].code), "code")
        fate = index.fate(code)
        if fate is not None:
            raise Conflict(t("Mã {code} thuộc một đơn vị đã kết thúc ({vi}); hãy chọn mã khác",
                             "the code {code} belonged to a unit that ended ({en}); choose another code",
                             code=code, vi=fate.render("vi"), en=fate.render("en")), "code")
        return code

    def move(self, code: str, parent_code: str) -> Unit:
        """Move a unit with its subtree below another unit (not below itself)."""
        unit, parent = self.units.get(code), self.units.get(parent_code)
        if parent.path[: len(unit.path)] == unit.path:
            raise InvalidInput(t("Không thể chuyển đơn vị vào chính nó hoặc đơn vị con",
                                 "a unit cannot move below itself or its own sub-units"), "parent")
        self.units.store.move(unit, parent)
        self.units.forget()
        self.audit.record("unit.move", code, {"parent": unit.parent_code}, {"parent": parent.code})
        return self.units.get(code)

    def appoint(self, uid: str, code: str) -> None:
        """Make a person unit admin of `code` (keeping their other roles and units)."""
        unit = self.units.get(code)
        dn = self.mailboxes.find_entry(uid.strip().lower()).dn
        roles, scopes = self.roles.get(dn)
        new_scopes = scopes if unit.path in scopes else (*scopes, unit.path)
        self.roles.set(dn, roles | {Role.UNITADMIN}, new_scopes)
        self.audit.record("unit.appoint_admin", code, after={"uid": uid, "unit": code})

    def admins_of(self, code: str) -> list[str]:
        """uids of the people who administer exactly this unit."""
        unit_dn = dit.unit_dn(self.units.get(code).path, self.mailboxes.base_dn)
        return sorted(m.uid for m in self.mailboxes.search(conditions=[filters.eq("maAdminOf", unit_dn)]))
