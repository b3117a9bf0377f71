"""One login for the web admin and SMTP AUTH: look the account up, bind as it, say what may be said.

- The password is checked by an LDAP bind (slapd's ppolicy decides: locks, suspended accounts,
  forced change after a reset), on kept-open connections (directory/binder.py).
- An unknown account costs what a wrong password costs: the bind goes to a decoy entry whose
  password hash has the same scheme and cost as a chosen password, under the service policy (no
  lockout), and the answer is the same `refused`.
- A lock is explained only to someone who proved the password: where the caller may read the
  hash (the web admin's service account), a refused bind of a locked account is checked locally
  against it; every other refusal is checked against a dummy hash of the same cost, so the extra
  work tells a stranger nothing. The mail-server account cannot read hashes: SMTP never explains.
- Failures are counted per (source, login) and per source, for every process of the host
  (services/throttle.py); the per-login limit stays below ppolicy's lockout threshold, so one
  client address cannot lock anyone out. A directory that is down or hung is `unavailable`, not
  `refused`, and is not counted.
"""

from __future__ import annotations

import enum
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from mailadmin.directory import dit
from mailadmin.directory.binder import Bind, BindChecker
from mailadmin.directory.client import DirectoryConfig
from mailadmin.directory.roles import RoleHolder, RoleStore
from mailadmin.errors import MailadminError
from mailadmin.i18n import Text
from mailadmin.passwords import hash_chosen, matches
from mailadmin.services.mailboxes import lock_end
from mailadmin.services.throttle import FailureLimiter
from mailadmin.settings import Passwords, Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
DECOY_CN = "login-decoy"
MAX_LOGIN = 256
CACHE_SIZE = 20000
# Failures one client address may make in a window over all logins (a NAT of many people counts once).
FAILURES_PER_SOURCE = 10
# How long a form checked against the directory is recognised when sent again (F5 on its answer, a double click).
RESEND_SECONDS = 300
RESEND_STRIPES = 64  # locks a process tries submissions under (one submission at a time)


class Result(enum.Enum):
    """What a login found."""

    OK = "ok"
    MUST_CHANGE = "must_change"  # the right password, set by an administrator (or expired)
    REFUSED = "refused"  # unknown, wrong password, or locked without the password proven
    LOCKED = "locked"  # the right password of a locked, suspended or retired account
    THROTTLED = "throttled"  # too many failures from this source: no bind was made
    UNAVAILABLE = "unavailable"  # the directory did not answer


@dataclass(frozen=True)
class Account:
    """The mailbox a login names, as far as the caller's directory account may read it."""

    dn: str
    uid: str
    user: Any = None  # what the caller gets back (SMTP: its MailUser)
    locked_at: str = ""  # pwdAccountLockedTime
    password_hash: str = field(default="", repr=False)  # userPassword (service account only)
    epoch: str = ""  # maSessionEpoch: what sessions and tokens begun now will carry


@dataclass(frozen=True)
class LoginOutcome:
    """A login's answer; the account only when the password was right and may be used or changed."""

    result: Result
    account: Account | None = None
    locked_until: datetime | None = None  # LOCKED: when the lock ends (None: until an administrator lifts it)
    reason: Text | None = None  # UNAVAILABLE: what the directory layer said (unreachable, certificate refused)

    @property
    def granted(self) -> bool:
        """The password was right and the account may sign in (perhaps only to change it)."""
        return self.result in (Result.OK, Result.MUST_CHANGE)


def decoy_dn(base_dn: str) -> str:
    """The entry unknown and locked logins bind as (made by services/setup.py)."""
    return f"cn={DECOY_CN},ou={dit.SYSTEM_OU},{base_dn}"


def decoy_policy(base_dn: str, policy: Passwords) -> tuple[str, dict[str, list[str]]]:
    """The decoy's policy: failures recorded as a person's are (at most max_failures), never a lock."""
    # No pwdMaxFailure: with it slapd sets pwdAccountLockedTime even under pwdLockout FALSE, and a
    # locked decoy would answer fast. pwdMaxRecordedFailure alone records without locking.
    return f"cn={DECOY_CN},ou={dit.POLICIES_OU},{base_dn}", {
        "objectClass": ["organizationalRole", "pwdPolicy"], "cn": [DECOY_CN], "pwdAttribute": ["userPassword"],
        "pwdLockout": ["FALSE"], "pwdMaxRecordedFailure": [str(max(1, policy.max_failures))],
        "pwdFailureCountInterval": [str(policy.lockout_seconds)],
    }


def decoy_entry(base_dn: str, policy: Passwords) -> tuple[str, dict[str, list[str]]]:
    """The decoy: a random argon2id password nobody knows, at the cost of the passwords people choose."""
    return decoy_dn(base_dn), {
        "objectClass": ["applicationProcess", "simpleSecurityObject"], "cn": [DECOY_CN],
        "description": ["bound by logins of unknown or locked accounts: the work of a wrong password"],
        "userPassword": [hash_chosen(secrets.token_urlsafe(24), policy)],
        "pwdPolicySubentry": [decoy_policy(base_dn, policy)[0]],
    }


class Resend(enum.Enum):
    """What an earlier submission of the same form got (ResentForms.attempt)."""

    REFUSED = "refused"  # the directory refused it: not tried (not counted) again
    DONE = "done"  # it succeeded: not done again


class ResentForms:
    """Forms checked against the directory, recognised when sent again unchanged (F5, a double click).

    A wrong password sent again is answered as before without a second bind, so it counts once toward
    the throttle and ppolicy's lockout. Kept in the login throttle's file (every process of the host)
    under digests the caller keys with a secret; within a process, a double click's second request
    waits for the first's answer.
    """

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.time) -> None:
        self.seen = FailureLimiter(1, RESEND_SECONDS, resent_file(path), clock)
        self._stripes = tuple(threading.Lock() for _ in range(RESEND_STRIPES))

    def attempt(self, submission: str, action: Callable[[], T], kind: Callable[[T], Resend | None]) -> T | Resend:
        """`action`'s answer for a first submission, recorded as `kind` says (REFUSED, DONE or not at all);
        for the same submission sent again within RESEND_SECONDS, what was recorded, without running it."""
        with self._stripes[hash(submission) % RESEND_STRIPES]:
            earlier = next((kind for kind in Resend if self.seen.blocked(f"{kind.value}:{submission}")), None)
            if earlier is not None:
                return earlier
            answer = action()
            recorded = kind(answer)
            if recorded is not None:
                self.seen.fail(f"{recorded.value}:{submission}")
            return answer


def resent_file(throttle_path: Path | None) -> Path | None:
    """Where forms sent again are recognised: beside the login throttle's file, not in it (a file's expired rows
    are swept by the window of whoever sweeps: these 5 minutes would forget the throttle's failed logins)."""
    return throttle_path.with_name(f"{throttle_path.stem}-resent{throttle_path.suffix}") if throttle_path else None


class LoginThrottle:
    """Failures per source, per (source, name typed) and per (source, account), shared by a host's processes.

    The first two are told (429 / 454). The account's is silent: past it, a source's logins to
    that account bind the decoy and are refused like a wrong password, so cycling through a
    person's uid, address and aliases cannot reach the lockout, and the throttle never tells which
    names belong to one account.
    """

    def __init__(self, max_failures: int, lockout_seconds: int, path: Path | None, service: str,
                 per_source: int = FAILURES_PER_SOURCE, clock: Callable[[], float] = time.time) -> None:
        # ppolicy forgets failures after pwdFailureCountInterval (= lockout_seconds; 0 = never).
        self.window = lockout_seconds or 86400
        self.per_login = FailureLimiter(per_login_limit(max_failures), self.window, path, clock)
        self.per_source = FailureLimiter(per_source, self.window, path, clock)
        self.service = service  # per-source limits differ by service; per-login failures are one budget
        self.resent = ResentForms(path, clock)

    def blocked(self, source: str, name: str) -> bool:
        """True when this source may not try this name now (said to the client)."""
        return self.per_source.blocked(f"src:{self.service}:{source}") \
            or self.per_login.blocked(f"name:{source}\0{name}")

    def silenced(self, source: str, dn: str) -> bool:
        """True when this source's binds to this account would bring it near the lockout."""
        return self.per_login.blocked(f"dn:{source}\0{dn.lower()}")

    def fail(self, source: str, name: str, dn: str | None) -> None:
        """Count one refused password (against the account only when its own bind failed)."""
        self.per_source.fail(f"src:{self.service}:{source}")
        self.per_login.fail(f"name:{source}\0{name}", *([f"dn:{source}\0{dn.lower()}"] if dn else []))

    def clear(self, source: str, name: str, dn: str) -> None:
        """Forget this source's failures on this name and account (not its failures on others)."""
        self.per_login.clear(f"name:{source}\0{name}", f"dn:{source}\0{dn.lower()}")


def host_share(max_failures: int, hosts: int) -> int:
    """The lockout threshold one host's throttle works to when `hosts` hosts count failures apart.

    Each host counts in its own SQLite file (services/throttle.py) while ppolicy's failures and lock
    replicate between the directory peers: with the whole budget on each host, one source spreading
    its guesses over the hosts would reach the lockout. Each host gets its share of it instead.
    """
    if hosts <= 1 or max_failures <= 0:
        return max_failures
    return max(2, (max_failures - 1) // hosts + 1)


def login_hosts(settings: Settings) -> int:
    """Hosts that count failed logins apart: one per replicated private peer (each its own state folder)."""
    return 1 + len(settings.slapd.peers) if settings.embedded_directory and settings.slapd.peers else 1


def per_login_limit(max_failures: int) -> int:
    """Failures one source may make on one login: one fewer than ppolicy's lockout threshold (0: none)."""
    return max(1, max_failures - 1) if max_failures else 10


class LoginService:
    """Checks logins for the web admin (explaining locks) and SMTP AUTH (a cached lookup)."""

    def __init__(self, lookup: Callable[[str], Account | None], binder: BindChecker, decoy: str,
                 throttle: LoginThrottle, lockout_seconds: int, *, dummy_hash: str | None = None,
                 cache_seconds: float = 0.0) -> None:
        """`dummy_hash` (same scheme and cost as chosen passwords) turns on explaining locks."""
        self.lookup = lookup
        self.binder = binder
        self.decoy = decoy
        self.throttle = throttle
        self.lockout_seconds = lockout_seconds
        self.dummy_hash = dummy_hash
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Account, float]] = {}
        self._lock = threading.Lock()

    def login(self, login: str, password: str, source: str) -> LoginOutcome:
        """Check a login from `source` (a client address); never raises for a directory failure."""
        key = login.strip().lower()
        try:
            if self.throttle.blocked(source, key):
                return LoginOutcome(Result.THROTTLED)  # no bind at all
            return self._check(key, password, source)
        except MailadminError as error:  # not counted: the password was never checked
            log.warning("login %r: the directory failed: %s", key, error.message.both())
            return LoginOutcome(Result.UNAVAILABLE, reason=error.message)
        except sqlite3.Error as error:  # the throttle's file (disk full, unreadable): try again later
            log.warning("login %r: the login throttle failed: %s", key, error)
            return LoginOutcome(Result.UNAVAILABLE)

    def _check(self, key: str, password: str, source: str) -> LoginOutcome:
        granted, tried = self._try_cached(key, password, source)
        if granted is not None:
            return granted
        account = self.lookup(key) if 0 < len(key) <= MAX_LOGIN else None
        real = account is not None and not self._locked(account) and not self.throttle.silenced(source, account.dn)
        if account is not None and account.dn == tried:  # that very bind just failed
            return self._refused(account, password, source, key, counted=real)
        if not real:  # unknown, locked or silenced: the decoy costs what a wrong password costs
            self.binder.check(self.decoy, password)
            return self._refused(account, password, source, key, counted=False)
        assert account is not None
        result = self.binder.check(account.dn, password)
        if result is Bind.REFUSED:
            return self._refused(account, password, source, key, counted=True)
        self._remember(key, account)
        return self._granted(result, account, key, source)

    def _try_cached(self, key: str, password: str, source: str) -> tuple[LoginOutcome | None, str | None]:
        """Bind as the DN cached for this login: (the outcome if granted, the DN whose bind failed)."""
        cached = self._cached(key)
        if cached is None or self.throttle.silenced(source, cached.dn):
            return None, None
        result = self.binder.check(cached.dn, password)
        if result is not Bind.REFUSED:
            return self._granted(result, cached, key, source), None
        self._forget(key)  # a moved mailbox is found again by the lookup
        return None, cached.dn

    def _granted(self, result: Bind, account: Account, key: str, source: str) -> LoginOutcome:
        self.throttle.clear(source, key, account.dn)
        return LoginOutcome(Result.OK if result is Bind.OK else Result.MUST_CHANGE, account)

    def _locked(self, account: Account) -> bool:
        """Locked now (an expired lock is lifted by slapd at the next bind: that bind must be made)."""
        if not account.locked_at:
            return False
        end = lock_end(account.locked_at, self.lockout_seconds)
        return end is None or end > datetime.now(UTC)

    def _refused(self, account: Account | None, password: str, source: str, key: str, *,
                 counted: bool) -> LoginOutcome:
        """Refused and counted (against the account when `counted`: its own bind failed); with the
        password of a locked account proven locally: locked (not counted)."""
        locked = account is not None and self._locked(account)
        if self.dummy_hash is not None:
            stored = account.password_hash if account is not None and locked else self.dummy_hash
            if matches(password, stored) and account is not None and locked:
                return LoginOutcome(Result.LOCKED, locked_until=lock_end(account.locked_at, self.lockout_seconds))
        self.throttle.fail(source, key, account.dn if account is not None and counted else None)
        return LoginOutcome(Result.REFUSED)

    def close(self) -> None:
        """Close the kept bind connections."""
        self.binder.close()

    def _cached(self, key: str) -> Account | None:
        with self._lock:
            found = self._cache.get(key)
        return found[0] if found and found[1] > time.monotonic() else None

    def _remember(self, key: str, account: Account) -> None:
        if self.cache_seconds <= 0:
            return
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (account, time.monotonic() + self.cache_seconds)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)


def throttle_file(settings: Settings) -> Path:
    """Where the processes of this host count failed logins."""
    return settings.state_dir / "throttle" / "logins.sqlite3"


def admin_logins(roles: RoleStore, config: DirectoryConfig, settings: Settings,
                 throttle_path: Path | None) -> LoginService:
    """Logins of the web admin: the service account reads the lock, the hash and the session epoch."""
    policy = settings.passwords
    throttle = LoginThrottle(host_share(policy.max_failures, login_hosts(settings)), policy.lockout_seconds,
                             throttle_path, "web")
    return LoginService(lambda login: _holder_account(roles.holder_for_login(login)), BindChecker(config),
                        decoy_dn(config.base_dn), throttle, settings.passwords.lockout_seconds,
                        dummy_hash=hash_chosen(secrets.token_urlsafe(24), settings.passwords))


def _holder_account(holder: RoleHolder | None) -> Account | None:
    if holder is None:
        return None
    return Account(holder.dn, holder.uid, holder, holder.locked_at, holder.password_hash, holder.epoch)
