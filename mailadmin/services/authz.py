"""Who may do what: roles and unit scopes, checked on the server side for every use case."""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin.errors import PermissionDenied
from mailadmin.i18n import t
from mailadmin.model import Role, Unit


@dataclass(frozen=True)
class Principal:
    """A logged-in person with their roles and the unit subtrees they administer."""

    uid: str
    full_name: str
    roles: frozenset[Role]
    scopes: tuple[tuple[str, ...], ...] = ()

    @property
    def is_admin(self) -> bool:
        """May change mailboxes somewhere."""
        return bool(self.roles & {Role.SUPERADMIN, Role.UNITADMIN})

    def has(self, *roles: Role) -> bool:
        """True if the person holds any of `roles`."""
        return bool(self.roles & set(roles))

    def covers(self, unit: Unit) -> bool:
        """True if `unit` lies inside one of this person's subtrees (super admins cover all)."""
        if Role.SUPERADMIN in self.roles:
            return True
        return any(unit.path[: len(scope)] == scope for scope in self.scopes)

    def may_read(self, unit: Unit) -> bool:
        """Auditors and super admins read everything; others what they administer."""
        return Role.AUDITOR in self.roles or self.covers(unit)

    def may_manage(self, unit: Unit) -> bool:
        """Change mailboxes, lists and sub-units of `unit`."""
        return self.has(Role.SUPERADMIN) or (self.has(Role.UNITADMIN) and self.covers(unit))

    def may_import(self, unit: Unit) -> bool:
        """Run imports touching `unit`."""
        return self.may_manage(unit) or (self.has(Role.HR) and self.covers(unit))


def require(allowed: bool, unit: Unit | None = None) -> None:
    """Raise PermissionDenied unless `allowed`."""
    if allowed:
        return
    if unit is None:
        raise PermissionDenied(t("Bạn không có quyền thực hiện thao tác này",
                                 "you are not allowed to do this"))
    raise PermissionDenied(t("Bạn không có quyền với đơn vị {name} ({code})",
                             "you have no rights on the unit {name} ({code})", name=unit.name, code=unit.code))
