"""Roles and delegated scopes on person entries (maAdministrator: maRole, maAdminOf)."""

from __future__ import annotations

from mailadmin.directory import dit
from mailadmin.directory.client import DirectoryClient
from mailadmin.model import Role

ROLE_ATTRIBUTES = ("objectClass", "maRole", "maAdminOf")


class RoleStore:
    """Reads and writes who may administer what."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    def get(self, dn: str) -> tuple[frozenset[Role], tuple[tuple[str, ...], ...]]:
        """The roles of an entry and the unit paths it administers."""
        entry = self.client.get(dn, ROLE_ATTRIBUTES)
        if entry is None:
            return frozenset(), ()
        known = {role.value for role in Role}
        roles = frozenset(Role(value.lower()) for value in entry.texts("maRole") if value.lower() in known)
        scopes = tuple(dit.unit_path_of(unit_dn, self.base_dn) for unit_dn in entry.texts("maAdminOf"))
        return roles, scopes

    def set(self, dn: str, roles: frozenset[Role], scopes: tuple[tuple[str, ...], ...]) -> None:
        """Replace the roles and scopes of an entry (adds the auxiliary class when needed)."""
        entry = self.client.get(dn, ["objectClass"])
        classes = [] if entry is None else entry.texts("objectClass")
        changes: dict = {"maRole": ("replace", sorted(role.value for role in roles)),
                         "maAdminOf": ("replace", [dit.unit_dn(path, self.base_dn) for path in scopes])}
        if "maAdministrator" not in classes:
            changes = {"objectClass": ("add", ["maAdministrator"]), **changes}
        self.client.modify(dn, changes)
