"""Verified TLS to the directory: every server the project talks to, ldaps:// or StartTLS.

ldap3's own default is CERT_NONE (encrypted, but to whoever answers), and with a CA its host
name check is its own backport; here the standard library does both checks in the handshake
(chain to `ldap.ca_file` or the system CAs, host name or IP address of the URI, TLS 1.2 or
newer). With StartTLS on, TLS starts whenever a connection (re)opens, also when ldap3 reopens
one by itself inside a bind, so no bind ever leaves in clear. A handshake failure is kept on its
connection so that the error the user sees names the certificate problem instead of ldap3's
"no active server".
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ldap3 import FIRST, NONE, Connection, Server, ServerPool, Tls
from ldap3.core import exceptions as ldap_errors

from mailadmin.errors import ConfigError, DirectoryUnavailable, unreachable
from mailadmin.i18n import Text, t

# What opening a connection (TCP, TLS handshake, StartTLS) raises when the far end is not usable.
OPEN_ERRORS = (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
               ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPStartTLSError)
TLS_READ_SIZE = 65536


class VerifiedTls(Tls):
    """ldap3's Tls, but the handshake checks the certificate chain and host name (TLS >= 1.2)."""

    def __init__(self, ca_file: str = "", start_tls: bool = False) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED)
        self.context = _context(ca_file)
        self.start_tls_on_plain = start_tls  # ldap:// servers: StartTLS before anything else

    def wrap_socket(self, connection: Connection, do_handshake: bool = False) -> None:
        """Wrap the connection's socket and shake hands; the certificate must verify for the URI's host."""
        wrapped = SerialTlsSocket(connection.socket, self.context, connection.server.host)
        try:
            wrapped.handshake()  # ldap3 always asks for it; never leave it to the first write
        except ssl.SSLError as exc:
            if isinstance(connection, SecuredConnection):
                connection.tls_failure = (f"{connection.server.host}:{connection.server.port}", exc)
            raise
        connection.socket = wrapped


class SerialTlsSocket:
    """A TLS socket that one thread may read while another writes.

    ldap3's ASYNC strategy (bulk writes) receives in a thread of its own while the caller sends;
    an ssl.SSLSocket used that way corrupts the session (OpenSSL objects are not safe for
    concurrent use: measured, a pipelined run of 3,000 adds over StartTLS died with "EOF occurred
    in violation of protocol"). Here TLS runs on memory buffers under a lock, and only the
    network reads and writes happen outside it.
    """

    def __init__(self, raw: socket.socket, context: ssl.SSLContext, host: str) -> None:
        self._raw = raw
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        self._lock = threading.Lock()  # the TLS state and its buffers
        self._send_lock = threading.Lock()  # bytes leave in the order TLS produced them

    def handshake(self) -> None:
        """Shake hands (and verify the certificate); ssl.SSLError when that fails."""
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ssl.SSLEOFError(8, "the server closed the connection during the TLS handshake") from None
            except ssl.SSLError:
                self._flush()  # the alert tells the server why
                raise

    def recv(self, size: int) -> bytes:
        """Up to `size` decrypted bytes; b"" once the server has closed the connection."""
        while True:
            with self._lock:
                try:
                    return self._tls.read(size)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLZeroReturnError:
                    return b""
            self._flush()  # reading may have produced TLS records to answer (key updates)
            if not self._fill():
                return b""

    def sendall(self, data: bytes) -> None:
        """Encrypt and send all of `data`."""
        with self._send_lock:
            with self._lock:
                self._tls.write(data)
            self._send_pending()

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The server's certificate (as ssl.SSLSocket.getpeercert)."""
        return self._tls.getpeercert(binary_form)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)  # settimeout, setsockopt, getpeername, shutdown, close…

    def _fill(self) -> bool:
        """Read from the network into TLS (outside the lock: it blocks); False at end of stream."""
        data = self._raw.recv(TLS_READ_SIZE)
        if not data:
            return False
        with self._lock:
            self._incoming.write(data)
        return True

    def _flush(self) -> None:
        with self._send_lock:
            self._send_pending()

    def _send_pending(self) -> None:
        with self._lock:
            data = self._outgoing.read()
        if data:
            self._raw.sendall(data)


class SecuredConnection(Connection):
    """An ldap3 Connection that starts TLS right after every open when its servers ask for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.tls_failure: tuple[str, ssl.SSLError] | None = None  # (server, why) of a failed handshake
        super().__init__(*args, **kwargs)
        # ldap3 binds `open` to its strategy per instance and calls it from bind() on a closed
        # connection too: wrapping it here covers every (re)open.
        self._strategy_open: Callable[..., Any] = getattr(self, "open")  # noqa: B009 (ldap3 is untyped)
        self.open = self._open_secured

    def _open_secured(self, reset_usage: bool = True, read_server_info: bool = True) -> None:
        self._strategy_open(reset_usage=reset_usage, read_server_info=False)
        tls = self.server.tls
        if isinstance(tls, VerifiedTls) and tls.start_tls_on_plain and not self.server.ssl and not self.tls_started:
            self.start_tls(read_server_info=False)


def _context(ca_file: str) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(t("ldap.ca_file {path} không đọc được hoặc không chứa chứng chỉ PEM: {e}",
                            "ldap.ca_file {path} cannot be read or holds no PEM certificate: {e}",
                            path=ca_file, e=getattr(exc, "strerror", None) or exc)) from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def server_pool(uris: Sequence[str], tls: VerifiedTls, connect_timeout: int) -> ServerPool:
    """The servers in failover order, each with the verified TLS settings."""
    return ServerPool([Server(uri, connect_timeout=connect_timeout, get_info=NONE, tls=tls) for uri in uris],
                      FIRST, active=1, exhaust=False)


def open_secured(connection: Connection, uris: Sequence[str]) -> None:
    """Open the connection (TLS as configured); a failure closes it and raises DirectoryUnavailable."""
    try:
        connection.open(read_server_info=False)
    except OPEN_ERRORS as exc:
        try:
            connection.unbind()
        except ldap_errors.LDAPException:
            pass
        raise connection_failure(connection, uris, exc) from exc


def connection_failure(connection: Connection, uris: Sequence[str], exc: Exception) -> DirectoryUnavailable:
    """The error for a connection that could not be opened: the certificate problem when there was one."""
    failure = getattr(connection, "tls_failure", None)
    if failure is not None:
        return DirectoryUnavailable(_handshake_text(*failure))
    if isinstance(exc, ldap_errors.LDAPStartTLSError):
        return DirectoryUnavailable(t(
            "Máy chủ thư mục {uris} không nhận StartTLS ({e}): không gửi gì ở dạng rõ",
            "the directory server {uris} refused StartTLS ({e}): nothing is sent in clear",
            uris=", ".join(uris), e=exc))
    return unreachable(", ".join(uris), str(exc) or type(exc).__name__)


def _handshake_text(address: str, exc: ssl.SSLError) -> Text:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return t("Chứng chỉ TLS của máy chủ thư mục {address} không xác minh được ({why}); kiểm tra ldap.ca_file "
                 "và tên máy trong ldap.uris. Không kết nối ở dạng rõ.",
                 "the TLS certificate of the directory server {address} does not verify ({why}); check "
                 "ldap.ca_file and the host name in ldap.uris. No clear-text fallback.",
                 address=address, why=exc.verify_message or exc.reason)
    return t("Không bắt tay TLS được với máy chủ thư mục {address}: {why}",
             "TLS handshake with the directory server {address} failed: {why}",
             address=address, why=exc.reason or exc)
