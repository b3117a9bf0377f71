"""Mailboxes in the directory: inetOrgPerson + inetLocalMailRecipient + maMailbox entries."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence

from mailadmin.directory import dit, filters
from mailadmin.directory.client import BATCH_SIZE, BulkFailure, DirectoryClient, Entry, Values
from mailadmin.directory.mapping import (
    LOCKED_FOREVER,
    MAILBOX_ATTRIBUTES,
    mailbox_attributes,
    mailbox_changes,
    mailbox_from_entry,
)
from mailadmin.errors import MailadminError, NotFound
from mailadmin.i18n import t
from mailadmin.model import Mailbox, Status, Tier
from mailadmin.names import held_local_parts

IS_MAILBOX = filters.eq("objectClass", "maMailbox")
# Every web session and API token carries the epoch its person had when it began; a write that
# must end them all (status, password, logout) replaces it, so no caller can forget it.
EPOCH = "maSessionEpoch"
UIDS_PER_SEARCH = 200  # uids OR-ed in one filter (get_many, locked_binds): one round trip per 200 mailboxes
ALIAS_PROBES = 50


# Server-side order of mailbox lists: given name, then family name (rules named: neither attribute
# has an ORDERING rule of its own in core.schema).
SUMMARY_ATTRIBUTES = ("uid", "cn", "sn", "givenName", "mail", "employeeNumber", "maAccountStatus", "maTier")
# maSortKey holds names.sort_key(): Vietnamese alphabetical order, given name first.
SORT_KEYS = ("maSortKey:caseExactOrderingMatch", "uid:caseIgnoreOrderingMatch")
# The orders a mailbox list offers, each ending with the unique uid so that no two entries tie
# (a kept list places an own write exactly: directory/kept_pages.py). mail and employeeNumber have
# no ORDERING rule of their own; the unit is a mailbox's parent DN, which sssvlv cannot sort by.
LIST_ORDERS: dict[str, tuple[str, ...]] = {
    "name": SORT_KEYS,
    "address": ("mail:caseIgnoreOrderingMatch", "uid:caseIgnoreOrderingMatch"),
    "hr_id": ("employeeNumber:caseIgnoreOrderingMatch", *SORT_KEYS),
    "status": ("maAccountStatus:caseIgnoreOrderingMatch", *SORT_KEYS),
}


def list_order(name: str, descending: bool = False) -> tuple[str, ...]:
    """The server sort keys of a list order (name when unknown); descending reverses every key."""
    keys = LIST_ORDERS.get(name, SORT_KEYS)
    return tuple(f"-{key}" for key in keys) if descending else keys


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
        return self.find(uid)[0]

    def find(self, uid: str) -> tuple[Mailbox, str]:
        """A mailbox and its DN in one search, or NotFound."""
        entry = self.find_entry(uid)
        return mailbox_from_entry(entry, self.base_dn), entry.dn

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

    def window(self, *, base_dn: str | None = None, conditions: Sequence[str] = (), offset: int = 0,
               count: int = 50, full: bool = True, order: Sequence[str] = SORT_KEYS) -> tuple[list[Mailbox], int]:
        """One page of matching mailboxes in Vietnamese name order (given, family, middle names) and the total.

        The server sorts and cuts (sssvlv): only the page is transferred, whatever the directory's size.
        `full=False` reads only what a list shows (no aliases, certificates, quota, retention).
        """
        entries, total = self.client.window(base_dn or self.base_dn, filters.all_of(IS_MAILBOX, *conditions),
                                            order, offset, count,
                                            MAILBOX_ATTRIBUTES if full else SUMMARY_ATTRIBUTES)
        return [mailbox_from_entry(entry, self.base_dn) for entry in entries], total

    def password_state(self, dn: str) -> tuple[bool, str]:
        """(must change the password, ppolicy lock time or '') of an entry."""
        entry = self.client.get(dn, ["pwdReset", "pwdAccountLockedTime"])
        if entry is None:
            return False, ""
        return entry.text("pwdReset").upper() == "TRUE", entry.text("pwdAccountLockedTime")

    def password_hashes(self, dn: str) -> list[str]:
        """The current password hash and the earlier ones ppolicy keeps (pwdHistory: time#syntax#length#hash)."""
        entry = self.client.get(dn, ["userPassword", "pwdHistory"])
        if entry is None:
            return []
        earlier = [value.split(b"#", 3)[-1] for value in entry.raw("pwdHistory")]
        return [value.decode("utf-8", "replace") for value in (*entry.raw("userPassword"), *earlier)]

    def lock_state(self, dn: str) -> tuple[str, int, str, str]:
        """(ppolicy lock time or '', failed binds ppolicy still counts, last successful bind (lastbind's
        authTimestamp) or '', last password change (ppolicy's pwdChangedTime) or '') of an entry, in one read."""
        entry = self.client.get(dn, ["pwdAccountLockedTime", "pwdFailureTime", "authTimestamp", "pwdChangedTime"])
        if entry is None:
            return "", 0, "", ""
        return (entry.text("pwdAccountLockedTime"), len(entry.raw("pwdFailureTime")), entry.text("authTimestamp"),
                entry.text("pwdChangedTime"))

    def locked_binds(self, uids: Iterable[str]) -> dict[str, list[str]]:
        """uid -> pwdAccountLockedTime of those of `uids` whose bind is locked (suspended, retired, locked
        out); a search per UIDS_PER_SEARCH uids on the uid index, not a scan of every locked mailbox."""
        found = self._by_uids(uids, ("uid", "pwdAccountLockedTime"), filters.present("pwdAccountLockedTime"))
        return {uid: entry.texts("pwdAccountLockedTime") for uid, entry in found.items()}

    def get_many(self, uids: Iterable[str], *, gone_ok: bool = False) -> list[Mailbox]:
        """The mailboxes of `uids` (each once, in the order given) in a search per UIDS_PER_SEARCH uids, or
        NotFound naming the first uid that has none (`gone_ok`: those without one are left out instead)."""
        wanted = list(dict.fromkeys(uids))
        found = self._by_uids(wanted, MAILBOX_ATTRIBUTES)
        missing = next((uid for uid in wanted if uid.lower() not in found), None)
        if missing is not None and not gone_ok:
            raise NotFound(t("Không có hộp thư {uid}", "no mailbox {uid}", uid=missing))
        return [mailbox_from_entry(found[uid.lower()], self.base_dn) for uid in wanted if uid.lower() in found]

    def entries_of(self, uids: Iterable[str], attributes: Sequence[str]) -> dict[str, Entry]:
        """Lower-cased uid -> entry, with `attributes`, of those of `uids` that have a mailbox: a search per
        UIDS_PER_SEARCH uids."""
        return self._by_uids(uids, ("uid", *attributes))

    def _by_uids(self, uids: Iterable[str], attributes: Sequence[str], *conditions: str) -> dict[str, Entry]:
        """Lower-cased uid -> entry of the mailboxes of `uids` (matching `conditions`): one search per
        UIDS_PER_SEARCH uids, each an OR of escaped equality filters on the uid index. Entries are kept by
        the uid they hold, so only a mailbox whose uid was asked for is ever returned."""
        wanted = list(uids)
        asked = {uid.lower() for uid in wanted}
        found: dict[str, Entry] = {}
        for start in range(0, len(wanted), UIDS_PER_SEARCH):
            chosen = filters.any_of(*(filters.eq("uid", uid) for uid in wanted[start:start + UIDS_PER_SEARCH]))
            for entry in self.client.iter_search(self.base_dn, filters.all_of(IS_MAILBOX, *conditions, chosen),
                                                 attributes=attributes):
                found.update((uid, entry) for uid in map(str.lower, entry.texts("uid")) if uid in asked)
        return found

    def unlock(self, dn: str) -> None:
        """Lift a ppolicy lockout and forget the failures it counted (else the next typo locks again)."""
        self.client.modify(dn, {"pwdAccountLockedTime": ("replace", []), "pwdFailureTime": ("replace", [])},
                           relax=True)

    def add(self, mailbox: Mailbox, unit_path: tuple[str, ...], password_hash: str | None) -> str:
        """Create the entry; returns its DN."""
        dn = self.dn_of(mailbox, unit_path)
        self.client.add(dn, _with_password(mailbox_attributes(mailbox), password_hash))
        return dn

    def add_many(self, items: Iterable[tuple[Mailbox, tuple[str, ...], str | None]],
                 on_result: Callable[[str, Exception | None], None] | None = None,
                 batch_size: int = BATCH_SIZE) -> list[BulkFailure]:
        """Create many entries, `batch_size` adds per LDAP transaction; returns those refused."""
        entries = ((self.dn_of(m, path), _with_password(mailbox_attributes(m), pw))
                   for m, path, pw in items)
        return self.client.add_many(entries, on_result, batch_size)

    def entry_of(self, mailbox: Mailbox, password_hash: str | None) -> dict[str, Values]:
        """Every attribute of a new mailbox entry, its initial password included (bulk adds)."""
        return _with_password(mailbox_attributes(mailbox), password_hash)

    def fields_of(self, mailbox: Mailbox, new_epoch: str | None = None) -> dict[str, list[str]]:
        """The attributes a write of every field replaces; with `new_epoch` (a changed status) the bind
        lock follows the status and every session ends."""
        values = {name: [str(value) for value in values] for name, values in mailbox_changes(mailbox).items()}
        if new_epoch:
            values["pwdAccountLockedTime"] = [] if mailbox.status is Status.ACTIVE else [LOCKED_FOREVER]
            values[EPOCH] = [new_epoch]
        return values

    def update(self, dn: str, mailbox: Mailbox) -> None:
        """Write every field of `mailbox` onto its entry."""
        self.client.modify(dn, {name: ("replace", values)
                                for name, values in mailbox_changes(mailbox).items()})

    def set_status(self, dn: str, status: Status, retain_until: str | None = None) -> None:
        """Record the status; any status but active also locks the bind (ppolicy); every session ends."""
        self.client.modify(dn, {**_replacing(status_values(status, retain_until)), **new_epoch()})

    def set_password(self, dn: str, password_hash: str) -> None:
        """Replace the password (ppolicy marks it reset: the owner must change it)."""
        self.client.modify(dn, {"userPassword": ("replace", [password_hash]), **new_epoch()})

    def change_own_password(self, dn: str, old_password: str, new_hash: str) -> str:
        """The owner replaces their password, bound as themselves; returns the new session epoch."""
        self.client.change_own_password(dn, old_password, new_hash)
        return self.end_sessions(dn)

    def end_sessions(self, dn: str) -> str:
        """Move the person's session epoch (every session and token ends); returns the new one."""
        changes = new_epoch()
        self.client.modify(dn, changes)
        return str(changes[EPOCH][1][0])

    def clear_password_reset(self, dn: str) -> None:
        """Drop ppolicy's must-change flag (for accounts whose password the admin chose)."""
        self.client.modify(dn, {"pwdReset": ("replace", [])})

    def move(self, dn: str, uid: str, unit_path: tuple[str, ...], tier: Tier, old_tier: Tier) -> str:
        """Move the entry below another unit and set its tier; returns the new DN.

        Not one LDAP transaction: slapd 2.5.13 crashes, now and then, on a transaction holding a
        modify and a modrdn of the same entry (docs/directory.md). The tier is set first and put
        back if the move is refused, so no outcome leaves a tier that disagrees with the unit.
        """
        self.client.modify(dn, _replacing(move_values(tier)))
        try:
            self.client.move(dn, dit.rdn("uid", uid), dit.unit_dn(unit_path, self.base_dn))
        except MailadminError:
            self.client.modify(dn, _replacing(move_values(old_tier)))
            raise
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

    def count(self, *, base_dn: str | None = None, conditions: Sequence[str] = ()) -> int:
        """How many mailboxes match, counted by the server (a one-entry VLV window)."""
        return self.window(base_dn=base_dn, conditions=conditions, count=1, full=False)[1]

    def count_by_unit(self, base_dn: str | None = None) -> dict[str, int]:
        """Mailboxes per unit code below base_dn (one paged search of DNs only)."""
        counts: dict[str, int] = {}
        for entry in self.client.iter_search(base_dn or self.base_dn, IS_MAILBOX, attributes=["1.1"]):
            path = dit.parent_unit_path(entry.dn, self.base_dn)
            if path:
                counts[path[-1]] = counts.get(path[-1], 0) + 1
        return counts

    def status_and_tier(self) -> Iterator[tuple[str, str]]:
        """(tier, status) of every mailbox: the numbers behind the dashboard."""
        for entry in self.client.iter_search(self.base_dn, IS_MAILBOX,
                                             attributes=("maTier", "maAccountStatus")):
            yield entry.text("maTier"), entry.text("maAccountStatus")


def status_values(status: Status, retain_until: str | None = None) -> dict[str, list[str]]:
    """What a status change writes (the session epoch aside): the status, the bind lock, the retention date."""
    return {"maAccountStatus": [status.value],
            "pwdAccountLockedTime": [] if status is Status.ACTIVE else [LOCKED_FOREVER],
            "maRetainUntil": [retain_until] if retain_until else []}


def move_values(tier: Tier) -> dict[str, list[str]]:
    """What a move rewrites before the rename: the tier of the new unit."""
    return {"maTier": [tier.value]}


def _replacing(values: dict[str, list[str]]) -> dict[str, tuple[str, Values]]:
    return {name: ("replace", list(wanted)) for name, wanted in values.items()}


def new_epoch() -> dict[str, tuple[str, Values]]:
    """The change that moves a person's session epoch: every session and API token they hold ends."""
    return {EPOCH: ("replace", [new_epoch_value()])}


def new_epoch_value() -> str:
    """A fresh session epoch (random: no host can guess another's)."""
    return secrets.token_hex(8)


def _with_password(attributes: dict[str, Values], password_hash: str | None) -> dict[str, Values]:
    """Add the password of a new entry, marked for change at first login.

    ppolicy sets pwdReset when someone other than the owner *modifies* a password, not when
    an entry is added with one, so a new entry carries the flag itself.
    """
    if password_hash:
        attributes["userPassword"] = [password_hash]
        attributes["pwdReset"] = ["TRUE"]
    return attributes


def _local_parts(entries: Iterable[Entry], domain: str) -> set[str]:
    taken: set[str] = set()
    for entry in entries:
        addresses = entry.texts("mail") + entry.texts("mailLocalAddress")
        taken.update(held_local_parts(entry.texts("uid"), addresses, domain))
    return taken
