"""SMTP AUTH credentials checked by an LDAP bind, with the login -> DN lookup cached briefly."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from mailadmin.directory.binder import Bind
from mailadmin.directory.mailrouting import MailRoutingStore, MailUser

CACHE_SECONDS = 60.0
CACHE_SIZE = 20000


@dataclass(frozen=True)
class Login:
    """The outcome of a login: the mailbox only when the password may be used."""

    result: Bind
    user: MailUser | None = None


REFUSED = Login(Bind.REFUSED)

class LoginChecker:
    """Finds the mailbox a login names and binds as it.

    The lookup is cached for a minute so a login costs one bind, not a search and a bind. A cache
    hit only saves the search: the bind still decides (a locked or suspended account fails there),
    and a failed bind drops the entry and looks the login up again, so a moved mailbox is found. A
    password that must be changed first (admin reset, expired) is the right one: its entry stays.
    """

    def __init__(self, routing: MailRoutingStore) -> None:
        self.routing = routing
        self._cache: dict[str, tuple[MailUser, float]] = {}
        self._lock = threading.Lock()

    def check(self, login: str, password: str) -> Login:
        """Bind as the mailbox the login names; directory failures raise."""
        key = login.strip().lower()
        cached = self._cached(key)
        if cached is not None:
            result = self.routing.check_password(cached.dn, password)
            if result is not Bind.REFUSED:
                return _login(result, cached)
        self._forget(key)
        user = self.routing.user_for_login(key)
        if user is None or (cached is not None and cached.dn == user.dn):
            return REFUSED  # unknown, or the same DN whose bind just failed
        result = self.routing.check_password(user.dn, password)
        if result is not Bind.REFUSED:
            self._remember(key, user)
        return _login(result, user)

    def _cached(self, key: str) -> MailUser | None:
        with self._lock:
            found = self._cache.get(key)
        return found[0] if found and found[1] > time.monotonic() else None

    def _remember(self, key: str, user: MailUser) -> None:
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = (user, time.monotonic() + CACHE_SECONDS)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)


def _login(result: Bind, user: MailUser) -> Login:
    return Login(Bind.OK, user) if result is Bind.OK else Login(result)
