"""Password checks by LDAP bind on kept-open connections (the mail servers' hot path)."""

from __future__ import annotations

import queue

from ldap3 import FIRST as POOL_FIRST
from ldap3 import NONE as NO_INFO
from ldap3 import Connection, Server, ServerPool
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory.client import DirectoryConfig
from mailadmin.directory.results import error_for_result
from mailadmin.errors import unreachable

REFUSED_BIND = (49, 50, 53)  # invalid credentials, insufficient access, unwilling (ppolicy lock)


class BindChecker:
    """Checks passwords by rebinding idle connections instead of opening one per check.

    Same answer as DirectoryClient.check_password (a locked, suspended or retired account fails
    in the bind), without a TCP connection and an ldap3 Connection object per login.
    """

    def __init__(self, config: DirectoryConfig, size: int = 8) -> None:
        self.config = config
        self._servers = ServerPool([Server(uri, connect_timeout=config.connect_timeout, get_info=NO_INFO)
                                    for uri in config.uris], POOL_FIRST, active=1, exhaust=False)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=size)

    def check(self, dn: str, password: str) -> bool:
        """True if `password` binds as `dn`; a dead server is retried once on a new connection."""
        if not password:
            return False  # an empty password would be an unauthenticated bind: never a login
        for attempt in range(2):
            connection = self._take()
            try:
                ok = bool(connection.rebind(user=dn, password=password))
            except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
                    ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPBindError) as exc:
                _close(connection)  # a connection the server dropped: the next one is new
                if attempt == 1:
                    raise unreachable(", ".join(self.config.uris), str(exc) or type(exc).__name__) from exc
                continue
            result = connection.result
            if not ok and result.get("result") not in REFUSED_BIND:
                _close(connection)
                raise error_for_result(result, dn)
            self._give_back(connection)
            return ok
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                _close(self._idle.get_nowait())
            except queue.Empty:
                return

    def _take(self) -> Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            connection = Connection(self._servers, raise_exceptions=False, auto_referrals=False,
                                    receive_timeout=self.config.receive_timeout)
            try:
                connection.open()
            except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
                    ldap_errors.LDAPSocketOpenError) as exc:
                raise unreachable(", ".join(self.config.uris), str(exc) or type(exc).__name__) from exc
            return connection

    def _give_back(self, connection: Connection) -> None:
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            _close(connection)


def _close(connection: Connection) -> None:
    try:
        connection.unbind()
    except Exception:
        pass
