"""Password checks by LDAP bind on kept-open connections (the mail servers' hot path)."""

from __future__ import annotations

import enum
import queue
from typing import Any

from ldap3 import Connection
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory.client import DirectoryConfig, bindable
from mailadmin.directory.failover import FAILOVER_RESULTS, Failover
from mailadmin.directory.results import error_for_result
from mailadmin.directory.tls import SecuredConnection, VerifiedTls, open_secured
from mailadmin.errors import DirectoryError, unreachable
from mailadmin.i18n import t

REFUSED_BIND = (49, 50, 53)  # invalid credentials, insufficient access, unwilling (ppolicy lock)
# Password policy control (draft-behera-ldap-password-policy): asked for with every bind, so slapd
# says in the bind response whether the password must be changed, at no extra round trip.
PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
PPOLICY_REQUEST = [(PPOLICY_OID, False, None)]
PASSWORD_EXPIRED, CHANGE_AFTER_RESET = 0, 2  # ppolicy response errors
WARNING_TAG, ERROR_TAG, GRACE_TAG = 0xA0, 0x81, 0x81


class Bind(enum.Enum):
    """What a password check found."""

    OK = "ok"
    REFUSED = "refused"  # wrong password, unknown, locked, suspended or retired
    MUST_CHANGE = "must_change"  # the right password, but set by an admin (pwdReset) or expired


class BindChecker:
    """Checks passwords by rebinding idle connections instead of opening one per check.

    Same answer as DirectoryClient.check_password (a locked, suspended or retired account fails
    in the bind), without a TCP connection and an ldap3 Connection object per login; and, from
    the password-policy response control, whether the password must be changed first (a bind
    with pwdReset TRUE succeeds: ppolicy only restricts the session that follows).
    """

    def __init__(self, config: DirectoryConfig, size: int = 8) -> None:
        self.config = config
        self._failover = Failover(config.uris, VerifiedTls(config.ca_file, config.start_tls),
                                  config.connect_timeout)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=size)

    def check(self, dn: str, password: str) -> Bind:
        """Whether `password` binds as `dn` and may be used; a dead or hung server: again on the next one."""
        if not bindable(password):
            return Bind.REFUSED
        attempts = 1 + self._failover.attempts
        for attempt in range(attempts):
            connection = self._take()
            try:
                ok = bool(connection.rebind(user=dn, password=password, controls=PPOLICY_REQUEST))
            except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
                    ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPBindError,
                    ldap_errors.LDAPResponseTimeoutError) as exc:
                self._failover.down(connection)
                _close(connection)  # a connection the server dropped: the next one is new
                if attempt == attempts - 1:
                    raise unreachable(", ".join(self.config.uris), str(exc) or type(exc).__name__) from exc
                continue
            result = connection.result
            if not ok and self._busy(connection, result, last=attempt == attempts - 1):
                continue
            if not ok and result.get("result") not in REFUSED_BIND:
                _close(connection)
                raise error_for_result(result, dn)
            self._give_back(connection)
            try:
                return _outcome(ok, result)
            except ValueError as exc:  # never guess: the client is told to try again later
                raise DirectoryError(t("Điều khiển chính sách mật khẩu không đọc được: {e}",
                                       "unreadable password policy control: {e}", e=exc)) from exc
        raise AssertionError("unreachable")

    def _busy(self, connection: Connection, result: dict[str, Any], *, last: bool) -> bool:
        """A busy or unavailable answer (not on the last try): the server is passed over, the next one asked."""
        if last or result.get("result") not in FAILOVER_RESULTS:
            return False
        self._failover.down(connection)
        _close(connection)
        return True

    def close(self) -> None:
        """Close every idle connection."""
        while True:
            try:
                _close(self._idle.get_nowait())
            except queue.Empty:
                return

    def _take(self) -> Connection:
        while True:
            try:
                kept = self._idle.get_nowait()
            except queue.Empty:
                break
            if self._failover.usable(kept):
                return kept
            _close(kept)  # its server is passed over (hung or gone): failover.py
        connection = SecuredConnection(self._failover.pool(), raise_exceptions=False, auto_referrals=False,
                                       receive_timeout=self.config.receive_timeout)
        open_secured(connection, self.config.uris)
        return connection

    def _give_back(self, connection: Connection) -> None:
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            _close(connection)


def _outcome(bound: bool, result: dict[str, Any]) -> Bind:
    value = (result.get("controls") or {}).get(PPOLICY_OID, {}).get("value")
    error, grace = password_policy_state(value) if value else (None, None)
    if error in (CHANGE_AFTER_RESET, PASSWORD_EXPIRED) or (bound and grace is not None):
        return Bind.MUST_CHANGE  # slapd checks reset and expiry only once the password matched
    return Bind.OK if bound else Bind.REFUSED


def password_policy_state(value: bytes) -> tuple[int | None, int | None]:
    """(error, grace logins left) from a password-policy response control value (BER)."""
    tag, body, end = _tlv(value, 0)
    if tag != 0x30 or end != len(value):
        raise ValueError("password policy response: not one SEQUENCE")
    error = grace = None
    position = 0
    while position < len(body):
        tag, content, position = _tlv(body, position)
        if tag == WARNING_TAG:
            inner, number, _ = _tlv(content, 0)
            if inner == GRACE_TAG:
                grace = int.from_bytes(number, "big", signed=True)
        elif tag == ERROR_TAG:
            error = int.from_bytes(content, "big", signed=True)
    return error, grace


def _tlv(data: bytes, position: int) -> tuple[int, bytes, int]:
    """One BER tag, its content and the position after it (definite lengths, one-byte tags)."""
    if position + 2 > len(data):
        raise ValueError("password policy response: truncated")
    tag, length = data[position], data[position + 1]
    position += 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4 or position + size > len(data):
            raise ValueError("password policy response: bad length")
        length = int.from_bytes(data[position:position + size], "big")
        position += size
    if position + length > len(data):
        raise ValueError("password policy response: truncated")
    return tag, data[position:position + length], position + length


def _close(connection: Connection) -> None:
    try:
        connection.unbind()
    except Exception:
        pass
