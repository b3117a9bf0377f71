"""Use cases on mailboxes: create with a generated address, show, list, suspend, move, passwords."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta

from mailadmin.audit import AuditLog
from mailadmin.directory import dit, filters, mapping
from mailadmin.directory.client import BulkFailure, DirectoryClient
from mailadmin.directory.mailboxes import LIST_ORDERS, MailboxStore, list_order
from mailadmin.directory.mapping import LOCKED_FOREVER
from mailadmin.directory.roles import RoleHolder, RoleStore
from mailadmin.errors import Conflict, InvalidInput
from mailadmin.i18n import t
from mailadmin.model import Mailbox, PersonName, Status, Tier, Unit
from mailadmin.names import AddressAllocator, PrefixIndex, Refusal, local_part, search_key, split_name
from mailadmin.passwords import generate_password, hash_chosen, hash_generated, matches, weakness
from mailadmin.services.authz import NO_RIGHTS, Principal, Rights, require, require_holds
from mailadmin.services.units import UnitService
from mailadmin.settings import Settings
from mailadmin.validation import clean_address, clean_local_part, clean_person_name, clean_phone, clean_text

LIFECYCLE = {"suspend": Status.SUSPENDED, "resume": Status.ACTIVE, "retire": Status.RETIRED}  # the methods below
ADDRESS_ATTEMPTS = 10  # generated addresses tried when concurrent creations take them first


@dataclass(frozen=True)
class NewMailbox:
    """What a person fills in to create a mailbox; empty mail means 'generate one'."""

    full_name: str
    unit_code: str
    mail: str = ""
    title: str = ""
    phone: str = ""
    hr_id: str = ""
    aliases: tuple[str, ...] = ()
    quota_mib: int = 0
    password: str = ""


@dataclass(frozen=True)
class Created:
    """A new mailbox and, when the password was generated, that password (shown once)."""

    mailbox: Mailbox
    initial_password: str | None = field(repr=False)


def keep_a_super_admin(roles: RoleStore, *uids: str) -> None:
    """Conflict if `uids` hold every active super admin (revoking, suspending or retiring them all would
    leave nobody to administer the province from the web)."""
    active = roles.active_super_admins()
    if active and set(active) <= set(uids):
        raise Conflict(t("{uid} là quản trị cấp tỉnh cuối cùng còn hoạt động: hãy giao vai trò này cho người khác "
                         "trước", "{uid} is the last active super admin: give the role to someone else first",
                         uid=", ".join(sorted(active))), "uid")


@dataclass(frozen=True)
class MailboxQuery:
    """Filters of a mailbox list; all optional."""

    unit_code: str | None = None
    tier: Tier | None = None
    status: Status | None = None
    text: str = ""
    limit: int = 0
    sort: str = "name"  # a key of LIST_ORDERS (directory/mailboxes.py); pages only
    descending: bool = False


SORTABLE = tuple(LIST_ORDERS)  # the columns a list can be sorted by
MAX_QUOTA_MIB = 1024 * 1024


def check_quota(quota_mib: int) -> int:
    """The quota in MiB (0: the default) if it is in range, else InvalidInput (creation and edit alike)."""
    if quota_mib < 0 or quota_mib > MAX_QUOTA_MIB:
        raise InvalidInput(t("Hạn mức không hợp lệ: {q}", "invalid quota: {q}", q=quota_mib), "quota_mib")
    return quota_mib


def list_sort(value: str | None) -> tuple[str, bool]:
    """A list order from a URL's `sort` ('address', '-address': descending); anything else: by name."""
    text = (value or "").strip()
    name = text.removeprefix("-")
    return (name, text.startswith("-")) if name in LIST_ORDERS else ("name", False)


def claim_addresses(allocator: AddressAllocator, addresses: Iterable[str], domain: str, holder: str = "",
                    *, unit_list: bool = False) -> list[tuple[str, Refusal]]:
    """Claim for `holder` ('': a new entry) each address of `domain` by the allocator's one rule (reserved,
    handed out in this batch, held by another entry); the refused ones and why. Addresses of other domains
    are not given here: left alone. Creation, aliases and reorganisations' new domain all come through."""
    suffix = "@" + domain.lower()
    refused = []
    for address in addresses:
        if address.lower().endswith(suffix):
            refusal = allocator.refusal(address.lower().removesuffix(suffix), holder, unit_list=unit_list)
            if refusal is not None:
                refused.append((address, refusal))
    return refused


def new_domain_addresses(addresses: Sequence[str], domain: str, old_domain: str) -> list[str]:
    """A domain change: the old domain's addresses in the new domain first, then every address as it was
    (the old ones are kept as aliases until a date, then dropped: ReorgService.expire)."""
    moved = [f"{local}@{domain}" for local, _, at in (a.rpartition("@") for a in addresses)
             if at.lower() == old_domain.lower()]
    return list(dict.fromkeys([*moved, *addresses]))


MAILBOX_FIELDS = tuple(f.name for f in fields(Mailbox) if f.name not in ("name", "certificates"))


def rights_of(holder: RoleHolder | None) -> Rights:
    """What a role holder's roles and scopes reach (nothing for a mailbox without any)."""
    return Rights(holder.roles, holder.scopes) if holder else NO_RIGHTS


def status_action(status: Status) -> str:
    """The audit action of a status change: mailbox.suspended, mailbox.retired, mailbox.resume."""
    return f"mailbox.{'resume' if status is Status.ACTIVE else status.value}"


def stored_date(day: date | None) -> str | None:
    """A retention date as the directory stores it (GeneralizedTime at midnight)."""
    return mapping.generalized_time(day) if day else None


def with_status(mailbox: Mailbox, status: Status, retain_until: date | None = None) -> Mailbox:
    """A mailbox after a status change (a retention date only while retired)."""
    return replace(mailbox, status=status, retain_until=retain_until)


def moved_to(mailbox: Mailbox, unit: Unit) -> Mailbox:
    """A mailbox after a move: its unit, and the tier that follows the unit."""
    return replace(mailbox, unit_code=unit.code, tier=unit.tier)


def mailbox_record(mailbox: Mailbox) -> dict[str, object]:
    """A mailbox as plain data for the audit log and JSON output (certificates counted).

    Shallow on purpose: dataclasses.asdict deep-copies every value, which cost an import of 6,888 rows
    about a second for its audit entries (measured with cProfile).
    """
    data: dict[str, object] = {name: getattr(mailbox, name) for name in MAILBOX_FIELDS}
    data["full_name"] = mailbox.name.full
    data["certificates"] = len(mailbox.certificates)
    return data


class MailboxService:
    """Business rules on top of the mailbox store."""

    def __init__(self, settings: Settings, client: DirectoryClient, units: UnitService, audit: AuditLog) -> None:
        self.settings = settings
        self.audit = audit
        self.store = MailboxStore(client)
        self.roles = RoleStore(client)
        self.units = units
        self.domain = settings.organisation.mail_domain

    # -- who may act on a mailbox (the one rule for web, API, certificates and imports) --------

    def rights(self, uid: str) -> Rights:
        """The roles and administered units of a mailbox's owner: what acting on the mailbox would reach."""
        return rights_of(self.roles.holder(uid.strip().lower()))

    def authorize_change(self, person: Principal, mailbox: Mailbox, rights: Rights | None = None) -> Unit:
        """Raise PermissionDenied unless `person` manages the mailbox's unit AND holds its owner's rights.

        `rights`: the owner's, when the caller has just read them (else they are read here).
        """
        unit = self.units.get(mailbox.unit_code)
        require(person.may_manage(unit), unit)
        require_holds(person, mailbox.uid, self.rights(mailbox.uid) if rights is None else rights)
        return unit

    def authorize_many(self, person: Principal, mailboxes: Iterable[Mailbox]) -> list[Mailbox]:
        """authorize_change for each mailbox of a bulk action, the owners' rights read in one search."""
        checked = list(mailboxes)
        if any(mailbox.unit_code not in self.units.index().units for mailbox in checked):
            self.units.forget()  # a unit another process made within the 0.1 s one change check covers
        holders = self.roles.holders()
        for mailbox in checked:
            roles, scopes = holders.get(mailbox.uid, (frozenset(), ()))
            self.authorize_change(person, mailbox, Rights(roles, scopes))
        return checked

    def protected_from(self, person: Principal) -> frozenset[str]:
        """uids of the role holders whose rights reach beyond `person`'s (imports may not touch them)."""
        return frozenset(uid for uid, (roles, scopes) in self.roles.holders().items()
                         if not person.holds(Rights(roles, scopes)))

    def check_hr_id(self, hr_id: str, owner: str | None = None) -> None:
        """Raise Conflict when another mailbox already carries this HR id (ids identify people in imports)."""
        if not hr_id:
            return
        holders = [m.uid for m in self.store.search(conditions=[filters.eq("employeeNumber", hr_id)])]
        taken = [uid for uid in holders if uid != owner]
        if taken:
            raise Conflict(t("Mã nhân sự {id} đã thuộc về hộp thư khác ({uid})",
                             "the HR id {id} already belongs to another mailbox ({uid})", id=hr_id, uid=taken[0]),
                           "hr_id")

    # -- addresses ---------------------------------------------------------------------------

    def allocator(self, *, bulk: bool = False) -> AddressAllocator:
        """An address allocator checking the directory (bulk: one search for every address)."""
        reserved = self.settings.addresses.reserved
        if bulk:
            return AddressAllocator(PrefixIndex(self.store.all_local_parts(self.domain)), reserved)
        return AddressAllocator(lambda base: self.store.taken_local_parts(base, self.domain), reserved)

    def suggest_address(self, full_name: str) -> str:
        """The address a new person with this name would get now."""
        base = local_part(split_name(full_name, self.settings.names), self.settings.addresses.pattern)
        return f"{self.allocator().allocate(base)}@{self.domain}"

    # -- create ------------------------------------------------------------------------------

    def prepare(self, request: NewMailbox, allocator: AddressAllocator) -> tuple[Mailbox, str]:
        """Validate a request and pick its address; writes nothing. Returns the mailbox and password."""
        name = split_name(clean_person_name(request.full_name), self.settings.names)
        unit = self.units.get(request.unit_code)
        uid = self._pick_local_part(request.mail, name, allocator)
        mailbox = Mailbox(
            uid=uid, name=name, mail=f"{uid}@{self.domain}", unit_code=unit.code, tier=unit.tier,
            title=clean_text(request.title, "title"), phone=clean_phone(request.phone),
            hr_id=clean_text(request.hr_id, "hr_id"),
            aliases=self._claim_aliases(request.aliases, allocator), quota_mib=check_quota(request.quota_mib),
        )
        mailbox = self.with_defaults(mailbox)
        if request.password:
            self._check_password(request.password, mailbox)
        return mailbox, request.password

    def _pick_local_part(self, wanted: str, name: PersonName, allocator: AddressAllocator) -> str:
        if not wanted:
            return allocator.allocate(local_part(name, self.settings.addresses.pattern))
        local = clean_local_part(clean_address(wanted, self.domain).split("@")[0])
        if claim_addresses(allocator, [f"{local}@{self.domain}"], self.domain):
            raise Conflict(t("Địa chỉ {mail} đã được dùng hoặc dành riêng",
                             "the address {mail} is taken or reserved", mail=f"{local}@{self.domain}"))
        return local

    def _claim_aliases(self, aliases: Sequence[str], allocator: AddressAllocator,
                       mailbox: Mailbox | None = None) -> tuple[str, ...]:
        """The aliases cleaned and sorted (an existing mailbox's mail left out), each one it does not hold
        yet claimed by the allocator's rule; Conflict for the first refused."""
        addresses = sorted({clean_address(alias, self.domain, "aliases") for alias in aliases}
                           - ({mailbox.mail} if mailbox else set()))
        held = set(mailbox.aliases) if mailbox else set()
        for address, _ in claim_addresses(allocator, [a for a in addresses if a not in held], self.domain)[:1]:
            raise Conflict(t("Bí danh {mail} đã được dùng hoặc dành riêng",
                             "the alias {mail} is taken or reserved", mail=address), "aliases")
        return tuple(addresses)

    def with_defaults(self, mailbox: Mailbox) -> Mailbox:
        """A new mailbox as every creation path writes it (web, API, CLI, import): the default quota."""
        return replace(mailbox, quota_mib=mailbox.quota_mib or self.settings.mailboxes.default_quota_mib)

    def add(self, request: NewMailbox) -> Created:
        """Create one mailbox; a generated password is returned once, never stored in clear.

        A generated address another creation took meanwhile (two officers entering the same name at
        once) is given up for the next free one; an address the request names is never changed.
        """
        mailbox, password = self.prepare(request, self.allocator())
        self.check_hr_id(mailbox.hr_id)
        initial = None if password else generate_password()
        hashed = hash_chosen(password, self.settings.passwords) if password else hash_generated(initial or "")
        for attempt in range(ADDRESS_ATTEMPTS):
            try:
                self.store.add(mailbox, self.units.get(mailbox.unit_code).path, hashed)
                break
            except Conflict:
                if request.mail or attempt == ADDRESS_ATTEMPTS - 1 or not self._taken_meanwhile(mailbox.uid):
                    raise
                mailbox = self.prepare(request, self.allocator())[0]
        self.audit.record("mailbox.create", mailbox.uid, after=mailbox_record(mailbox))
        return Created(mailbox, initial)

    def _taken_meanwhile(self, local: str) -> bool:
        """Whether an entry now uses the local part a refused add was given."""
        return local in self.store.taken_local_parts(local, self.domain)

    def add_many(self, requests: Sequence[NewMailbox],
                 progress: Callable[[int], None] | None = None) -> list[BulkFailure]:
        """Create many mailboxes with generated passwords, pipelined; returns the refused ones.

        Every request is validated and given its address before the first write.
        """
        allocator = self.allocator(bulk=True)
        prepared = [self.prepare(request, allocator) for request in requests]
        path_of = {code: unit.path for code, unit in self.units.index().units.items()}

        def items() -> Iterator[tuple[Mailbox, tuple[str, ...], str]]:
            for mailbox, password in prepared:
                hashed = hash_chosen(password, self.settings.passwords) if password \
                    else hash_generated(generate_password())
                yield mailbox, path_of[mailbox.unit_code], hashed

        done = 0

        def tick(_dn: str, _error: Exception | None) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done)
        failures = self.store.add_many(items(), tick)
        self.audit.record("mailbox.create_many", f"{len(prepared) - len(failures)} mailboxes",
                          after={"created": len(prepared) - len(failures), "refused": len(failures)})
        return failures

    # -- read --------------------------------------------------------------------------------

    def get(self, uid: str) -> Mailbox:
        """A mailbox by uid."""
        return self.store.get(uid.strip().lower())

    def find(self, query: MailboxQuery) -> Iterator[Mailbox]:
        """Mailboxes matching the query, below the unit when one is given."""
        base, conditions = self._search_of(query)
        return self.store.search(base_dn=base, conditions=conditions, size_limit=query.limit)

    def page(self, query: MailboxQuery, offset: int, count: int, *, full: bool = True) -> tuple[list[Mailbox], int]:
        """One page of the query's mailboxes in name order, and how many match in all (full=False: summaries)."""
        base, conditions = self._search_of(query)
        return self.store.window(base_dn=base, conditions=conditions, offset=max(offset, 0), count=count, full=full,
                                 order=list_order(query.sort, query.descending))

    def _search_of(self, query: MailboxQuery) -> tuple[str | None, list[str]]:
        """The search base and filter parts of a query."""
        base = None
        if query.unit_code:
            base = dit.unit_dn(self.units.get(query.unit_code).path, self.store.base_dn)
        conditions = []
        if query.tier:
            conditions.append(filters.eq("maTier", query.tier.value))
        if query.status:
            conditions.append(filters.eq("maAccountStatus", query.status.value))
        if query.text.strip():
            text = query.text.strip()
            key = search_key(text)  # may be empty ("*"): then no name condition, never "(maSearchName=**)"
            conditions.append(filters.any_of(
                filters.contains("maSearchName", key) if key else "", filters.prefix("mail", text.lower()),
                filters.eq("uid", text.lower()), filters.eq("employeeNumber", text)))
        return base, conditions

    # -- lifecycle ---------------------------------------------------------------------------

    def suspend(self, uid: str) -> Mailbox:
        """Suspend: the mailbox stays, its owner can no longer log in anywhere."""
        return self._set_status(uid, Status.SUSPENDED)

    def resume(self, uid: str) -> Mailbox:
        """Reactivate a suspended or retired mailbox."""
        return self._set_status(uid, Status.ACTIVE)

    def retire(self, uid: str, today: date | None = None) -> Mailbox:
        """Retire: kept (not deleted) until the retention date, login refused."""
        days = self.settings.mailboxes.retention_days
        return self._set_status(uid, Status.RETIRED, (today or date.today()) + timedelta(days=days))

    def _set_status(self, uid: str, status: Status, retain_until: date | None = None) -> Mailbox:
        before, dn = self.store.find(uid.strip().lower())
        if status is not Status.ACTIVE:
            keep_a_super_admin(self.roles, before.uid)
        self.store.set_status(dn, status, stored_date(retain_until))
        after = with_status(before, status, retain_until)
        self.audit.record(status_action(status), after.uid, mailbox_record(before), mailbox_record(after))
        return after

    def reset_password(self, uid: str, password: str | None = None) -> str | None:
        """Admin reset: the given password, or a generated one returned once; the owner must change it."""
        entry = self.store.find_entry(uid.strip().lower())
        if password:
            self._check_password(password, self.store.get(entry.text("uid")), entry.dn)
        initial = None if password else generate_password()
        hashed = hash_chosen(password, self.settings.passwords) if password else hash_generated(initial or "")
        self.store.set_password(entry.dn, hashed)
        self.audit.record("mailbox.password_reset", entry.text("uid"), after={"generated": initial is not None})
        return initial

    def update(self, uid: str, *, title: str, phone: str, hr_id: str, quota_mib: int,
               aliases: Sequence[str]) -> Mailbox:
        """Change the editable details of a mailbox (its address and unit stay)."""
        before = self.get(uid)
        check_quota(quota_mib)
        wanted = self._claim_aliases(aliases, self.allocator(), before)
        after = replace(before, title=clean_text(title, "title"), phone=clean_phone(phone),
                        hr_id=clean_text(hr_id, "hr_id"), quota_mib=quota_mib or before.quota_mib,
                        aliases=wanted)
        if after.hr_id != before.hr_id:
            self.check_hr_id(after.hr_id, before.uid)
        self.store.update(self.store.find_entry(before.uid).dn, after)
        self.audit.record("mailbox.update", after.uid, mailbox_record(before), mailbox_record(after))
        return after

    def change_own_password(self, uid: str, old_password: str, new_password: str) -> None:
        """The owner sets a new password, bound as themselves (ppolicy then clears the reset flag)."""
        entry = self.store.find_entry(uid.strip().lower())
        if new_password == old_password:
            raise InvalidInput(t("Mật khẩu mới phải khác mật khẩu cũ", "the new password must differ from the old one"),
                               "password")
        self._check_password(new_password, self.store.get(entry.text("uid")), entry.dn)
        self.store.change_own_password(entry.dn, old_password, hash_chosen(new_password, self.settings.passwords))
        self.audit.record("mailbox.password_change", entry.text("uid"), after={"by": "owner"})

    def _check_password(self, password: str, mailbox: Mailbox, dn: str | None = None) -> None:
        """Refuse a weak chosen password, or (for an existing entry) one of its last passwords."""
        name = mailbox.name
        personal = (mailbox.uid, name.family, name.given, f"{name.family}{name.given}", f"{name.given}{name.family}")
        problem = weakness(password, self.settings.passwords, personal)
        if problem is not None:
            raise InvalidInput(problem, "password")
        if dn is not None and any(matches(password, stored) for stored in self.store.password_hashes(dn)):
            raise InvalidInput(t("Bạn đã dùng mật khẩu này gần đây; hãy chọn mật khẩu khác",
                                 "you used this password recently; choose another one"), "password")

    def move(self, uid: str, unit_code: str) -> Mailbox:
        """Move a mailbox to another unit; its tier follows the new unit."""
        mailbox, dn = self.store.find(uid.strip().lower())
        unit = self.units.get(unit_code)
        if unit.code == mailbox.unit_code:
            return mailbox
        self.store.move(dn, mailbox.uid, unit.path, unit.tier, mailbox.tier)
        moved = moved_to(mailbox, unit)
        self.audit.record("mailbox.move", mailbox.uid, mailbox_record(mailbox), mailbox_record(moved))
        return moved

    # -- logins: lock state, unlock, end of sessions (services/auth.py) --------------------------

    def lock_state(self, uid: str) -> LockState:
        """Whether ppolicy locked the account after wrong passwords, until when, and the failures it counts."""
        mailbox, dn = self.store.find(uid.strip().lower())
        locked_at, failures, last_login, password_changed = self.store.lock_state(dn)
        times = {"last_login": generalized_time(last_login), "password_changed": generalized_time(password_changed)}
        if locked_at == LOCKED_FOREVER or mailbox.status is not Status.ACTIVE:
            return LockState(False, None, failures, **times)  # suspended or retired: the status says it
        return LockState(bool(locked_at), lock_end(locked_at, self.settings.passwords.lockout_seconds), failures,
                         **times)

    def unlock(self, uid: str) -> Mailbox:
        """Lift a lockout after wrong passwords (never a suspension: resume does that); audited."""
        mailbox, dn = self.store.find(uid.strip().lower())
        if mailbox.status is not Status.ACTIVE:
            raise InvalidInput(t("Hộp thư đang tạm khóa hoặc đã thôi sử dụng: hãy kích hoạt lại thay vì mở khóa",
                                 "the mailbox is suspended or retired: reactivate it instead of unlocking"))
        before = self.lock_state(mailbox.uid)
        self.store.unlock(dn)
        self.audit.record("mailbox.unlock", mailbox.uid, before={"locked": before.locked, "failures": before.failures},
                          after={"locked": False, "failures": 0})
        return mailbox

    def end_sessions(self, uid: str) -> None:
        """End every web session and API token of a person (logout)."""
        self.store.end_sessions(self.store.find_entry(uid.strip().lower()).dn)


@dataclass(frozen=True)
class LockState:
    """A mailbox's lockout after wrong passwords, as administrators see it."""

    locked: bool
    until: datetime | None  # None while locked: until an administrator unlocks
    failures: int
    last_login: datetime | None = field(default=None, compare=False)  # lastbind (to the hour): the last login
    password_changed: datetime | None = field(default=None, compare=False)  # ppolicy: the password's age


def lock_end(locked_at: str, lockout_seconds: int) -> datetime | None:
    """When a ppolicy lock set at `locked_at` ends; None: only an administrator ends it."""
    if locked_at == LOCKED_FOREVER or not lockout_seconds:
        return None
    start = generalized_time(locked_at)
    return start + timedelta(seconds=lockout_seconds) if start else None


def generalized_time(value: str) -> datetime | None:
    """An LDAP GeneralizedTime (20261201063000Z) as an aware datetime; None when empty or unreadable."""
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC) if value else None
    except ValueError:
        return None
