"""API tokens on person entries (maApiTokenHolder: maApiToken = digest $ issue time $ session epoch).

Only the service account reads or writes the attribute (slapd ACL), so every web host on the
directory (or on its replicas) knows every token; a person has at most one (single-valued).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailadmin.directory import filters
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mailboxes import IS_MAILBOX

TOKEN_CLASS, TOKEN = "maApiTokenHolder", "maApiToken"


@dataclass(frozen=True)
class StoredToken:
    """What the directory keeps of a token: its SHA-256 digest, when it was issued, the epoch at issue."""

    digest: str = field(repr=False)
    issued: str
    epoch: str

    def value(self) -> str:
        """The attribute value."""
        return f"{self.digest}${self.issued}${self.epoch}"

    @classmethod
    def parse(cls, value: str) -> StoredToken | None:
        """A stored value read back; None if it is not one of ours."""
        parts = value.split("$", 2)
        return cls(*parts) if len(parts) == 3 and parts[0] and parts[1] else None  # no epoch yet: ""


class ApiTokenStore:
    """Reads, replaces and removes the API token of the mailbox with a given uid."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client

    def _entry(self, uid: str, attributes: list[str]) -> tuple[str, list[str], str] | None:
        """(dn, object classes, stored value) of the mailbox `uid`, or None if there is not exactly one."""
        entries = self.client.search(self.client.base_dn, filters.all_of(IS_MAILBOX, filters.eq("uid", uid)),
                                     attributes=attributes)
        if len(entries) != 1:
            return None
        entry = entries[0]
        return entry.dn, [name.lower() for name in entry.texts("objectClass")], entry.text(TOKEN)

    def read(self, uid: str) -> StoredToken | None:
        """The person's token, or None (no such mailbox, or no token)."""
        found = self._entry(uid, ["objectClass", TOKEN])
        return StoredToken.parse(found[2]) if found else None

    def replace(self, uid: str, token: StoredToken) -> bool:
        """Store `token` in place of any earlier one; False if there is no such mailbox."""
        found = self._entry(uid, ["objectClass"])
        if found is None:
            return False
        changes: dict = {TOKEN: ("replace", [token.value()])}
        if TOKEN_CLASS.lower() not in found[1]:
            changes = {"objectClass": ("add", [TOKEN_CLASS]), **changes}
        self.client.modify(found[0], changes)
        return True

    def remove(self, uid: str) -> bool:
        """Drop the person's token; False if there was none."""
        found = self._entry(uid, ["objectClass", TOKEN])
        if found is None or TOKEN_CLASS.lower() not in found[1]:
            return False
        self.client.modify(found[0], {"objectClass": ("delete", [TOKEN_CLASS]), TOKEN: ("replace", [])})
        return True
