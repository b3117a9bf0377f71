"""Mailboxes in the directory: inetOrgPerson + inetLocalMailRecipient + maMailbox entries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from mailadmin.directory import dit, filters
from mailadmin.directory.client import BulkFailure, DirectoryClient, Entry, Values
from mailadmin.directory.mapping import (
    LOCKED_FOREVER,
    MAILBOX_ATTRIBUTES,
    mailbox_attributes,
    mailbox_changes,
    mailbox_from_entry,
)
from mailadmin.errors import NotFound
from mailadmin.i18n import t
from mailadmin.model import Mailbox, Status, Tier

IS_MAILBOX = filters.eq("objectClass", "maMailbox")
ALIAS_PROBES = 50


class MailboxStore:
    """Reads and writes mailbox entries; knows nothing of business rules."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    def dn_of(self, mailbox: Mailbox, unit_path: tuple[str, ...]) -> str:
        return dit.mailbox_dn(mailbox.uid, unit_path, self.base_dn)

    def find_entry(self, uid: str) -> Entry:
        """The entry of a mailbox by uid, or NotFound."""
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.eq("uid", uid)),
                                     attributes=MAILBOX_ATTRIBUTES)
        if not entries:
            raise NotFound(t("Không có hộp thư {uid}", "no mailbox {uid}", uid=uid))
        return entries[0]

    def get(self, uid: str) -> Mailbox:
        """A mailbox by uid, or NotFound."""
        return mailbox_from_entry(self.find_entry(uid), self.base_dn)

    def find_by_address(self, address: str) -> Mailbox | None:
        """The mailbox whose mail or alias is `address`."""
        found = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.any_of(
            filters.eq("mail", address), filters.eq("mailLocalAddress", address))),
            attributes=MAILBOX_ATTRIBUTES)
        return mailbox_from_entry(found[0], self.base_dn) if found else None

    def search(self, *, base_dn: str | None = None, conditions: Sequence[str] = (),
               size_limit: int = 0) -> Iterator[Mailbox]:
        """Mailboxes below base_dn matching every filter in `conditions`."""
        for entry in self.client.iter_search(base_dn or self.base_dn,
                                             filters.all_of(IS_MAILBOX, *conditions),
                                             attributes=MAILBOX_ATTRIBUTES, size_limit=size_limit):
            yield mailbox_from_entry(entry, self.base_dn)

    def add(self, mailbox: Mailbox, unit_path: tuple[str, ...], password_hash: str | None) -> str:
        """Create the entry; returns its DN."""
        dn = self.dn_of(mailbox, unit_path)
        self.client.add(dn, _with_password(mailbox_attributes(mailbox), password_hash))
        return dn

    def add_many(self, items: Iterable[tuple[Mailbox, tuple[str, ...], str | None]],
                 on_result: Callable[[str, Exception | None], None] | None = None) -> list[BulkFailure]:
        """Create many entries, pipelined; returns those the directory refused."""
        entries = ((self.dn_of(m, path), _with_password(mailbox_attributes(m), pw))
                   for m, path, pw in items)
        return self.client.add_many(entries, on_result)

    def update(self, dn: str, mailbox: Mailbox) -> None:
        """Write every field of `mailbox` onto its entry."""
        self.client.modify(dn, {name: ("replace", values)
                                for name, values in mailbox_changes(mailbox).items()})

    def set_status(self, dn: str, status: Status, retain_until: str | None = None) -> None:
        """Record the status; any status but active also locks the bind (ppolicy)."""
        changes: dict[str, tuple[str, Values]] = {"maAccountStatus": ("replace", [status.value])}
        locked = [] if status is Status.ACTIVE else [LOCKED_FOREVER]
        changes["pwdAccountLockedTime"] = ("replace", locked)
        changes["maRetainUntil"] = ("replace", [retain_until] if retain_until else [])
        self.client.modify(dn, changes)

    def set_password(self, dn: str, password_hash: str) -> None:
        """Replace the password (ppolicy marks it reset: the owner must change it)."""
        self.client.modify(dn, {"userPassword": ("replace", [password_hash])})

    def clear_password_reset(self, dn: str) -> None:
        """Drop ppolicy's must-change flag (for accounts whose password the admin chose)."""
        self.client.modify(dn, {"pwdReset": ("replace", [])})

    def move(self, dn: str, uid: str, unit_path: tuple[str, ...], tier: Tier) -> str:
        """Move the entry below another unit and set its tier, atomically; returns the new DN."""
        with self.client.transaction() as txn:
            # Modify before the rename: slapd 2.5.13 crashes on a modify of the new DN
            # inside the same transaction as the modrdn (see docs/directory.md).
            txn.modify(dn, {"maTier": ("replace", [tier.value])})
            txn.move(dn, dit.rdn("uid", uid), dit.unit_dn(unit_path, self.base_dn))
        return dit.mailbox_dn(uid, unit_path, self.base_dn)

    def taken_local_parts(self, start: str, domain: str) -> set[str]:
        """Local parts beginning with `start` used as uid, mail or alias by any entry.

        mailLocalAddress has no substring matching rule, so aliases are checked by
        equality for start, start1 … start{ALIAS_PROBES - 1}; the unique overlay still
        refuses any clash beyond that at write time.
        """
        aliases = [filters.eq("mailLocalAddress", f"{start}{n or ''}@{domain}") for n in range(ALIAS_PROBES)]
        condition = filters.any_of(filters.prefix("uid", start), filters.prefix("mail", start), *aliases)
        return _local_parts(self.client.iter_search(
            self.base_dn, condition, attributes=("uid", "mail", "mailLocalAddress")), domain)

    def all_local_parts(self, domain: str) -> set[str]:
        """Every local part in use (one paged search: for bulk allocation)."""
        condition = filters.any_of(filters.present("uid"), filters.present("mail"),
                                   filters.present("mailLocalAddress"))
        return _local_parts(self.client.iter_search(
            self.base_dn, condition, attributes=("uid", "mail", "mailLocalAddress")), domain)

    def status_and_tier(self) -> Iterator[tuple[str, str]]:
        """(tier, status) of every mailbox: the numbers behind the dashboard."""
        for entry in self.client.iter_search(self.base_dn, IS_MAILBOX,
                                             attributes=("maTier", "maAccountStatus")):
            yield entry.text("maTier"), entry.text("maAccountStatus")


def _with_password(attributes: dict[str, Values], password_hash: str | None) -> dict[str, Values]:
    if password_hash:
        attributes["userPassword"] = [password_hash]
    return attributes


def _local_parts(entries: Iterable[Entry], domain: str) -> set[str]:
    suffix = "@" + domain.lower()
    taken: set[str] = set()
    for entry in entries:
        taken.update(value.lower() for value in entry.texts("uid"))
        for address in entry.texts("mail") + entry.texts("mailLocalAddress"):
            address = address.lower()
            if address.endswith(suffix):
                taken.add(address.removesuffix(suffix))
    return taken
