"""Roles and delegated scopes on person entries (maAdministrator: maRole, maAdminOf)."""

from __future__ import annotations

from dataclasses import dataclass

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient, Entry
from mailadmin.directory.mailboxes import IS_MAILBOX
from mailadmin.model import Role

ROLE_ATTRIBUTES = ("objectClass", "maRole", "maAdminOf")
HOLDER_ATTRIBUTES = ("uid", "cn", "maAccountStatus", "maRole", "maAdminOf")


@dataclass(frozen=True)
class RoleHolder:
    """A person as a session sees them: name, account status, roles and administered units."""

    uid: str
    dn: str
    name: str
    status: str
    roles: frozenset[Role]
    scopes: tuple[tuple[str, ...], ...]


class RoleStore:
    """Reads and writes who may administer what."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    def get(self, dn: str) -> tuple[frozenset[Role], tuple[tuple[str, ...], ...]]:
        """The roles of an entry and the unit paths it administers."""
        entry = self.client.get(dn, ROLE_ATTRIBUTES)
        return (frozenset(), ()) if entry is None else self._roles_of(entry)

    def holder(self, uid: str) -> RoleHolder | None:
        """A mailbox's name, status, roles and scopes in one search; None if there is no such mailbox."""
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.eq("uid", uid)),
                                     attributes=HOLDER_ATTRIBUTES)
        if not entries:
            return None
        entry = entries[0]
        roles, scopes = self._roles_of(entry)
        return RoleHolder(entry.text("uid"), entry.dn, entry.text("cn"), entry.text("maAccountStatus", "active"),
                          roles, scopes)

    def _roles_of(self, entry: Entry) -> tuple[frozenset[Role], tuple[tuple[str, ...], ...]]:
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

    def holders(self) -> dict[str, tuple[frozenset[Role], tuple[tuple[str, ...], ...]]]:
        """Every mailbox whose owner holds a role: uid -> (roles, administered unit paths), in one search."""
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.present("maRole")),
                                     attributes=HOLDER_ATTRIBUTES)
        return {entry.text("uid"): self._roles_of(entry) for entry in entries}
