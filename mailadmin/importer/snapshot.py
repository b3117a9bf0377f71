"""A read-only picture of the directory that validation and planning work on (no I/O after it is taken)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mailadmin.model import Mailbox
from mailadmin.names import DEFAULT_ORDER, NameOrder, hr_id_key
from mailadmin.services.units import UnitIndex


@dataclass(frozen=True)
class Snapshot:
    """Units, mailboxes (by uid, by HR id) and every address in use, at one moment."""

    units: UnitIndex
    mailboxes: dict[str, Mailbox]
    by_hr_id: dict[str, str]          # HR id (names.hr_id_key: as slapd compares it) -> uid
    owners: dict[str, str]            # local part in use -> uid of its mailbox ("" for other entries)
    domain: str
    pattern: str = "{given}{initials}"
    reserved: tuple[str, ...] = ()
    name_order: NameOrder = DEFAULT_ORDER  # settings `names`: which names are written family-last

    @classmethod
    def of(cls, units: UnitIndex, mailboxes: list[Mailbox], other_local_parts: set[str], domain: str,
           pattern: str, reserved: tuple[str, ...], name_order: NameOrder = DEFAULT_ORDER) -> Snapshot:
        """Index mailboxes and addresses; `other_local_parts` are taken by entries that are not mailboxes."""
        owners = dict.fromkeys(other_local_parts, "")
        by_uid: dict[str, Mailbox] = {}
        by_hr_id: dict[str, str] = {}
        for mailbox in mailboxes:
            by_uid[mailbox.uid] = mailbox
            if mailbox.hr_id:
                by_hr_id[hr_id_key(mailbox.hr_id)] = mailbox.uid
            for address in (mailbox.uid, mailbox.mail, *mailbox.aliases):
                owners[address.split("@")[0].lower()] = mailbox.uid
        return cls(units, by_uid, by_hr_id, owners, domain.lower(), pattern, reserved, name_order)

    def holders(self) -> Mapping[str, tuple[str]]:
        """Local part -> who holds it, for AddressAllocator.of_holders (a view of `owners`, not a copy)."""
        return _Holders(self.owners)

    def unit_path(self, code: str) -> tuple[str, ...]:
        """The path of a unit that exists."""
        return self.units.units[code].path


OTHER_ENTRY = "-"  # the holder of a local part that no mailbox holds (a list, a role address)


class _Holders(Mapping[str, tuple[str]]):
    """Snapshot.owners as an allocator reads holders: one holder per local part, never '' (a new entry)."""

    def __init__(self, owners: dict[str, str]) -> None:
        self._owners = owners

    def __getitem__(self, local: str) -> tuple[str]:
        return (self._owners[local] or OTHER_ENTRY,)

    def get(self, local: str, default: Any = None) -> Any:
        """As dict.get: without Mapping.get's KeyError for every free local part (one per new address)."""
        owner = self._owners.get(local)
        return default if owner is None else (owner or OTHER_ENTRY,)

    def __iter__(self) -> Iterator[str]:
        return iter(self._owners)

    def __len__(self) -> int:
        return len(self._owners)
