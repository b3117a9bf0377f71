"""Granting and revoking roles from the command line: the first super admin, auditors, HR officers."""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin.audit import AuditLog
from mailadmin.directory.roles import RoleHolder, RoleStore
from mailadmin.errors import Conflict, InvalidInput, NotFound
from mailadmin.i18n import t
from mailadmin.model import Role, Status
from mailadmin.services.mailboxes import keep_a_super_admin
from mailadmin.services.units import UnitService

SCOPED_ROLES = frozenset({Role.UNITADMIN, Role.HR})
Scopes = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class RoleChange:
    """What a person holds after a grant or revoke, and whether anything changed."""

    uid: str
    roles: frozenset[Role]
    scopes: Scopes
    changed: bool

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output: role names and unit codes, sorted."""
        return {"uid": self.uid, "roles": sorted(role.value for role in self.roles),
                "scopes": sorted(path[-1] for path in self.scopes), "changed": self.changed}


def parse_role(name: str) -> Role:
    """A role by name, or InvalidInput listing the known ones."""
    try:
        return Role(name.strip().lower())
    except ValueError:
        raise InvalidInput(t("Không có vai trò {role} (có: {known})", "unknown role {role} (known: {known})",
                             role=name, known=", ".join(role.value for role in Role)), "role") from None


class RoleService:
    """Who holds which role over which units; every change is audited."""

    def __init__(self, units: UnitService, roles: RoleStore, audit: AuditLog) -> None:
        self.units = units
        self.roles = roles
        self.audit = audit

    def grant(self, uid: str, role: Role, scope: str | None = None) -> RoleChange:
        """Give `role` (over unit `scope` for unit admins and HR) to an active or suspended mailbox."""
        path = self._scope_path(role, scope)
        holder = self._holder(uid)
        if holder.status == Status.RETIRED:
            raise Conflict(t("Hộp thư {uid} đã nghỉ: không thể giao vai trò",
                             "the mailbox {uid} is retired: it cannot hold a role", uid=holder.uid), "uid")
        scopes = holder.scopes if path is None or path in holder.scopes else (*holder.scopes, path)
        return self._save("role.grant", holder, holder.roles | {role}, scopes)

    def revoke(self, uid: str, role: Role, scope: str | None = None) -> RoleChange:
        """Take `role` away (or only its unit `scope`); scopes go when no scoped role is left."""
        holder = self._holder(uid)
        path = self._scope_path(role, scope) if scope else None
        if role not in holder.roles or (path is not None and path not in holder.scopes):
            raise NotFound(t("{uid} không giữ vai trò {role}{where}", "{uid} does not hold the role {role}{where}",
                             uid=holder.uid, role=role.value, where=f" ({scope})" if scope else ""), "role")
        if role is Role.SUPERADMIN:
            keep_a_super_admin(self.roles, holder.uid)
        scopes = tuple(kept for kept in holder.scopes if kept != path) if path else holder.scopes
        roles = holder.roles - {role} if path is None or not scopes else holder.roles
        if not roles & SCOPED_ROLES:
            roles, scopes = roles - SCOPED_ROLES, ()
        return self._save("role.revoke", holder, roles, scopes)

    def _scope_path(self, role: Role, scope: str | None) -> tuple[str, ...] | None:
        if role in SCOPED_ROLES and not scope:
            raise InvalidInput(t("Vai trò {role} cần --scope ĐƠN_VỊ", "the role {role} needs --scope UNIT",
                                 role=role.value), "scope")
        if role not in SCOPED_ROLES and scope:
            raise InvalidInput(t("Vai trò {role} áp dụng cho cả tỉnh: bỏ --scope",
                                 "the role {role} covers the whole province: drop --scope", role=role.value), "scope")
        return self.units.get(scope).path if scope else None

    def _holder(self, uid: str) -> RoleHolder:
        holder = self.roles.holder(uid.strip().lower())
        if holder is None:
            raise NotFound(t("Không có hộp thư {uid}", "no mailbox {uid}", uid=uid), "uid")
        return holder

    def _save(self, action: str, holder: RoleHolder, roles: frozenset[Role], scopes: Scopes) -> RoleChange:
        changed = (roles, set(scopes)) != (holder.roles, set(holder.scopes))
        if changed:
            # A revocation ends the person's sessions and API token: a token left idle would act
            # again, with whatever role comes next, the day someone grants one.
            self.roles.set(holder.dn, roles, scopes, end_sessions=action == "role.revoke")
            self.audit.record(action, holder.uid, _record(holder.roles, holder.scopes), _record(roles, scopes))
        return RoleChange(holder.uid, roles, scopes, changed)


def _record(roles: frozenset[Role], scopes: Scopes) -> dict[str, list[str]]:
    return {"roles": sorted(role.value for role in roles), "scopes": sorted(path[-1] for path in scopes)}
