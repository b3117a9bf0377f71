"""What mail servers ask the directory: who logs in as whom, and where an address delivers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from mailadmin.directory import dit, filters
from mailadmin.directory.accounts import ensure_account, system_account
from mailadmin.directory.binder import Bind, BindChecker
from mailadmin.directory.client import DirectoryClient, Entry

MAILSERVER_CN = "mailserver"
MAILBOX_ROUTING_ATTRIBUTES = ("uid", "mail", "mailLocalAddress", "maAccountStatus", "maMailQuota")
LIST_ATTRIBUTES = ("cn", "mail", "mailLocalAddress")
IS_MAILBOX = filters.eq("objectClass", "maMailbox")
IS_LIST = filters.eq("objectClass", "groupOfNames")
NO_RESET = "(!(pwdReset=TRUE))"  # Dovecot's pass_filter: a password set by an admin opens no mail
MAX_LIST_DEPTH = 8  # nested lists deeper than this are a loop or a mistake


def mailserver_dn(base_dn: str) -> str:
    """The read-only account Postfix, Dovecot and `mailadmin smtpd` bind as."""
    return f"cn={MAILSERVER_CN},ou={dit.SYSTEM_OU},{base_dn}"


def mailserver_account(base_dn: str, password: str) -> tuple[str, dict[str, list[str]]]:
    """The entry of the mail-server account (service password policy: never locked out)."""
    return system_account(base_dn, MAILSERVER_CN, "mail servers: read-only lookups of mailboxes, aliases and lists",
                          password)


def ensure_mailserver_account(admin: DirectoryClient, password: str) -> bool:
    """Create the mail-server account in a directory made before it existed; True if created."""
    return ensure_account(admin, mailserver_account(admin.base_dn, password))


@dataclass(frozen=True)
class MailUser:
    """A mailbox as mail routing sees it."""

    dn: str
    uid: str
    mail: str
    addresses: frozenset[str]
    status: str
    quota_mib: int

    @property
    def deliverable(self) -> bool:
        """Retired mailboxes receive nothing; suspended ones keep receiving."""
        return self.status != "retired"


@dataclass(frozen=True)
class Route:
    """Where mail for one address goes: a mailbox, or a list's members."""

    address: str
    users: tuple[MailUser, ...]
    list_dn: str = ""

    @property
    def is_list(self) -> bool:
        return bool(self.list_dn)


class MailRoutingStore:
    """Lookups of the mail servers, made with the read-only mail-server account."""

    def __init__(self, client: DirectoryClient, binder: BindChecker | None = None) -> None:
        self.client = client
        self.binder = binder if binder is not None else BindChecker(client.config, size=1)
        self.base_dn = client.base_dn

    def user_for_login(self, login: str) -> MailUser | None:
        """The mailbox a login names: its uid, its address or one of its aliases."""
        login = login.strip().lower()
        if not login or len(login) > 256:
            return None
        condition = _address_filter(login) if "@" in login else filters.eq("uid", login)
        return self._one_user(condition)

    def user_for_address(self, address: str) -> MailUser | None:
        """The mailbox one of whose addresses is `address` (every address is in mailLocalAddress)."""
        return self._one_user(_address_filter(address))

    def route(self, address: str) -> Route | None:
        """Where `address` delivers: a deliverable mailbox, or the deliverable members of a list."""
        address = address.strip().lower()
        user = self.user_for_address(address)
        if user is not None:
            return Route(address, (user,)) if user.deliverable else None
        lists = self.client.search(self.base_dn, filters.all_of(IS_LIST, _address_filter(address)),
                                   attributes=LIST_ATTRIBUTES, size_limit=1)
        if not lists:
            return None
        return Route(address, tuple(self.expand(lists[0].dn)), list_dn=lists[0].dn)

    def claimed(self, address: str) -> bool:
        """True if a mailbox in any state (a retired one keeps its addresses until its date) or a list has `address`."""
        condition = filters.all_of(filters.any_of(IS_MAILBOX, IS_LIST), _address_filter(address.strip().lower()))
        return bool(self.client.search(self.base_dn, condition, attributes=["1.1"], size_limit=1))

    def expand(self, list_dn: str) -> list[MailUser]:
        """Deliverable mailboxes of a list, nested lists included, each once."""
        seen_lists, found = {list_dn.lower()}, dict[str, MailUser]()
        pending = [list_dn]
        for _ in range(MAX_LIST_DEPTH):
            if not pending:
                break
            members = filters.any_of(*(filters.eq("memberOf", dn) for dn in pending))
            for user in self._users(filters.all_of(IS_MAILBOX, members)):
                if user.deliverable:
                    found.setdefault(user.dn.lower(), user)
            nested = self.client.search(self.base_dn, filters.all_of(IS_LIST, members), attributes=["1.1"])
            pending = [entry.dn for entry in nested if entry.dn.lower() not in seen_lists]
            seen_lists.update(dn.lower() for dn in pending)
        return sorted(found.values(), key=lambda user: user.mail)

    def count_mailboxes(self, *, without_reset: bool = False) -> int:
        """How many mailboxes this account sees, or only those not flagged pwdReset (a size limit raises)."""
        return self.client.count(self.base_dn, filters.all_of(IS_MAILBOX, NO_RESET) if without_reset else IS_MAILBOX)

    def reads_password_hashes(self) -> bool:
        """True if this account can read any mailbox's userPassword (it never should)."""
        entries = self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, filters.present("userPassword")),
                                     attributes=["userPassword"], size_limit=1)
        return any(entry.raw("userPassword") for entry in entries)

    def check_password(self, dn: str, password: str) -> Bind:
        """Bind as `dn`: locked, suspended and retired accounts are refused, reset or expired ones must change."""
        return self.binder.check(dn, password)

    def close(self) -> None:
        """Release the directory connections."""
        self.client.close()
        self.binder.close()

    def _one_user(self, condition: str) -> MailUser | None:
        users = list(self._users(filters.all_of(IS_MAILBOX, condition), size_limit=2))
        return users[0] if len(users) == 1 else None

    def _users(self, condition: str, size_limit: int = 0) -> Iterable[MailUser]:
        for entry in self.client.iter_search(self.base_dn, condition, attributes=MAILBOX_ROUTING_ATTRIBUTES,
                                             size_limit=size_limit):
            yield _user(entry)


def password_schemes(admin: DirectoryClient) -> Counter[str]:
    """How many mailboxes store their password in each scheme ({ARGON2}, {SSHA512}…); admin account only."""
    schemes: Counter[str] = Counter()
    for entry in admin.iter_search(admin.base_dn, filters.all_of(IS_MAILBOX, filters.present("userPassword")),
                                   attributes=["userPassword"]):
        for value in entry.raw("userPassword"):
            text = value.decode("utf-8", errors="replace")
            schemes[text[1:text.index("}")].upper() if text.startswith("{") and "}" in text else "PLAIN"] += 1
    return schemes


def _address_filter(address: str) -> str:
    return filters.any_of(filters.eq("mail", address), filters.eq("mailLocalAddress", address))


def _user(entry: Entry) -> MailUser:
    mail = entry.text("mail").lower()
    addresses = frozenset(a.lower() for a in [mail, *entry.texts("mailLocalAddress")] if a)
    quota = entry.text("maMailQuota")
    return MailUser(dn=entry.dn, uid=entry.text("uid"), mail=mail, addresses=addresses,
                    status=entry.text("maAccountStatus", "active"), quota_mib=int(quota) if quota.isdigit() else 0)
