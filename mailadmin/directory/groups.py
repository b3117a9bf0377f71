"""Distribution lists in the directory: groupOfNames + inetLocalMailRecipient entries below their unit."""

from __future__ import annotations

from collections.abc import Sequence

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient, Entry

LIST_CLASSES = ("top", "groupOfNames", "inetLocalMailRecipient")
LIST_ATTRIBUTES = ("cn", "description", "mailLocalAddress", "member")
IS_LIST = filters.eq("objectClass", "groupOfNames")


class GroupStore:
    """Reads and writes list entries (cn = the list's local part; members are DNs, kept by refint)."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    def dn_of(self, name: str, unit_path: tuple[str, ...]) -> str:
        return f"{dit.rdn('cn', name)},{dit.unit_dn(unit_path, self.base_dn)}"

    def add(self, dn: str, name: str, address: str, description: str, members: Sequence[str]) -> None:
        """Create a list (groupOfNames needs at least one member)."""
        self.client.add(dn, {"objectClass": list(LIST_CLASSES), "cn": [name], "mailLocalAddress": [address],
                             "description": [description] if description else [], "member": list(members)})

    def get(self, dn: str) -> Entry | None:
        """A list entry by DN, or None."""
        entry = self.client.get(dn, LIST_ATTRIBUTES)
        return entry if entry is not None and entry.raw("member") else None

    def in_unit(self, unit_path: tuple[str, ...]) -> list[Entry]:
        """The lists directly below a unit."""
        return self.client.search(dit.unit_dn(unit_path, self.base_dn), IS_LIST, scope="one",
                                  attributes=LIST_ATTRIBUTES)

    def add_members(self, dn: str, members: Sequence[str]) -> None:
        """Add member DNs."""
        self.client.modify(dn, {"member": ("add", list(members))})

    def remove_member(self, dn: str, member: str) -> None:
        """Remove one member DN."""
        self.client.modify(dn, {"member": ("delete", [member])})

    def delete(self, dn: str) -> None:
        """Remove a list."""
        self.client.delete(dn)
