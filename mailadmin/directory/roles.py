"""Roles and delegated scopes on person entries (maAdministrator: maRole, maAdminOf)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient, Entry
from mailadmin.directory.mailboxes import EPOCH, IS_MAILBOX, new_epoch
from mailadmin.model import Role

ROLE_ATTRIBUTES = ("objectClass", "maRole", "maAdminOf")
HOLDER_ATTRIBUTES = ("uid", "cn", "objectClass", "maAccountStatus", "maRole", "maAdminOf", EPOCH, "pwdReset")
SECOND_FACTOR_CLASS = "masecondfactor"  # directory/second_factor.py: the person enrolled TOTP
# A login also reads the lock and the hash: a locked account's password is checked locally, so
# the lock is explained only to someone who proved the password (only the service account may).
LOGIN_ATTRIBUTES = (*HOLDER_ATTRIBUTES, "pwdAccountLockedTime", "userPassword")


@dataclass(frozen=True)
class RoleHolder:
    """A person as a session sees them: name, account status, roles and administered units."""

    uid: str
    dn: str
    name: str
    status: str
    roles: frozenset[Role]
    scopes: tuple[tuple[str, ...], ...]
    epoch: str = ""  # maSessionEpoch: sessions and tokens begun under another value are over
    must_change: bool = False  # pwdReset: the password was set by an administrator
    locked_at: str = ""  # pwdAccountLockedTime (read for logins only)
    password_hash: str = field(default="", repr=False)  # userPassword (read for logins only)
    second_factor: bool = False  # enrolled a second factor (objectClass maSecondFactor)


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
        """A mailbox's name, status, roles, scopes and session epoch in one search; None if there is none."""
        return self._holder(filters.eq("uid", uid), HOLDER_ATTRIBUTES)

    def holder_for_login(self, login: str) -> RoleHolder | None:
        """The mailbox a login names (uid, address or alias), with its lock time and password hash."""
        login = login.strip().lower()
        if not login or len(login) > 256:
            return None
        named = filters.any_of(filters.eq("mail", login), filters.eq("mailLocalAddress", login)) \
            if "@" in login else filters.eq("uid", login)
        return self._holder(named, LOGIN_ATTRIBUTES)

    def _holder(self, condition: str, attributes: tuple[str, ...]) -> RoleHolder | None:
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, condition), attributes=attributes)
        if len(entries) != 1:
            return None
        entry = entries[0]
        roles, scopes = self._roles_of(entry)
        return RoleHolder(entry.text("uid"), entry.dn, entry.text("cn"), entry.text("maAccountStatus", "active"),
                          roles, scopes, entry.text(EPOCH), entry.text("pwdReset").upper() == "TRUE",
                          entry.text("pwdAccountLockedTime"), _hash_of(entry),
                          SECOND_FACTOR_CLASS in (name.lower() for name in entry.texts("objectClass")))

    def _roles_of(self, entry: Entry) -> tuple[frozenset[Role], tuple[tuple[str, ...], ...]]:
        known = {role.value for role in Role}
        roles = frozenset(Role(value.lower()) for value in entry.texts("maRole") if value.lower() in known)
        scopes = tuple(dit.unit_path_of(unit_dn, self.base_dn) for unit_dn in entry.texts("maAdminOf"))
        return roles, scopes

    def set(self, dn: str, roles: frozenset[Role], scopes: tuple[tuple[str, ...], ...], *,
            end_sessions: bool = False) -> None:
        """Replace the roles and scopes of an entry (adds the auxiliary class when needed); with
        `end_sessions` the same write moves the session epoch (every session and API token ends)."""
        entry = self.client.get(dn, ["objectClass"])
        classes = [] if entry is None else entry.texts("objectClass")
        changes: dict = {"maRole": ("replace", sorted(role.value for role in roles)),
                         "maAdminOf": ("replace", [dit.unit_dn(path, self.base_dn) for path in scopes])}
        if "maAdministrator" not in classes:
            changes = {"objectClass": ("add", ["maAdministrator"]), **changes}
        self.client.modify(dn, {**changes, **(new_epoch() if end_sessions else {})})

    def active_super_admins(self) -> list[str]:
        """uids of the super admins whose mailboxes are active (may log in), in one search."""
        condition = filters.all_of(IS_MAILBOX, filters.eq("maRole", Role.SUPERADMIN.value))
        entries = self.client.search(self.base_dn, condition, attributes=("uid", "maAccountStatus"))
        return [entry.text("uid") for entry in entries if entry.text("maAccountStatus", "active") == "active"]

    def holders(self) -> dict[str, tuple[frozenset[Role], tuple[tuple[str, ...], ...]]]:
        """Every mailbox whose owner holds a role: uid -> (roles, administered unit paths), in one search."""
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.present("maRole")),
                                     attributes=HOLDER_ATTRIBUTES)
        return {entry.text("uid"): self._roles_of(entry) for entry in entries}


def _hash_of(entry: Entry) -> str:
    """The stored password hash; slapd's argon2 module leaves a NUL and stray bytes after its own."""
    values = entry.raw("userPassword")
    return values[0].split(b"\0", 1)[0].decode("ascii", "replace") if values else ""
