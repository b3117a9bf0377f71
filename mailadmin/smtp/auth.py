"""SMTP AUTH through the one login service (services/auth.py): a cached lookup, then an LDAP bind.

The login -> DN lookup is cached for a minute so a login costs one bind, not a search and a bind.
A cache hit only saves the search: the bind still decides (a locked or suspended account fails
there), and a failed bind drops the entry and looks the login up again, so a moved mailbox is
found. The mail-server account reads no hashes, so SMTP never explains a lock: 535 for all.
"""

from __future__ import annotations

from mailadmin.directory.mailrouting import MailRoutingStore, MailUser
from mailadmin.directory.mapping import LOCKED_FOREVER
from mailadmin.services.auth import Account, LoginService, LoginThrottle, decoy_dn
from mailadmin.smtp.config import SmtpConfig

CACHE_SECONDS = 60.0
# One NAT may hold a whole office whose phones retry a stale password: more room than the web's.
FAILURES_PER_SOURCE = 30


def smtp_logins(routing: MailRoutingStore, config: SmtpConfig) -> LoginService:
    """The login service of `mailadmin smtpd`, throttled with the web admin's counts of the host."""
    throttle = LoginThrottle(config.max_failures, config.lockout_seconds, config.throttle_file, "smtp",
                             FAILURES_PER_SOURCE)
    return LoginService(lambda login: _account(routing, routing.user_for_login(login)), routing.binder,
                        decoy_dn(routing.base_dn), throttle, config.lockout_seconds, cache_seconds=CACHE_SECONDS)


def _account(routing: MailRoutingStore, user: MailUser | None) -> Account | None:
    """The mailbox with its lock (suspended and retired ones are locked for good: ppolicy's value)."""
    if user is None:
        return None
    if user.status != "active":
        return Account(user.dn, user.uid, user, LOCKED_FOREVER)
    entry = routing.client.get(user.dn, ["pwdAccountLockedTime"])
    return Account(user.dn, user.uid, user, entry.text("pwdAccountLockedTime") if entry else "")
