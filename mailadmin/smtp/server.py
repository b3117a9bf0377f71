"""The two listeners (inbound and submission) with LDAP AUTH and per-client connection limits."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, AnyStr, ClassVar

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from mailadmin.directory.mailrouting import MailRoutingStore
from mailadmin.services.auth import LoginService, Result
from mailadmin.smtp.auth import smtp_logins
from mailadmin.smtp.config import SmtpConfig
from mailadmin.smtp.handler import MailHandler
from mailadmin.smtp.metrics import SmtpMetrics
from mailadmin.smtp.tls import ensure_self_signed, server_context

log = logging.getLogger(__name__)


class _NoLoginDataWarning(logging.Filter):
    """aiosmtpd 1.4 logs a deprecation warning of its own at every successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_NoLoginDataWarning())
AUTH_TEMPFAIL = "454 4.7.0 Temporary authentication failure, try again later"
AUTH_THROTTLED = "454 4.7.0 Too many failed logins from your address, try again later"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
AUTH_MUST_CHANGE = ("535 5.7.8 Password must be changed in the web admin first "
                    "(Hay doi mat khau tren trang quan tri truoc)")
AUTH_REFUSALS = {Result.MUST_CHANGE: AUTH_MUST_CHANGE, Result.THROTTLED: AUTH_THROTTLED,
                 Result.UNAVAILABLE: AUTH_TEMPFAIL}
MAX_CREDENTIAL = 1024
SCANNED_PREFIXES = ("auth_", "smtp_")  # what aiosmtpd looks up by name (LdapSMTP.__dir__)
# Commands per connection: a bad client is cut off after 100 of anything (bad commands too); an MTA
# may still send up to 1,000 messages on one connection.
COMMAND_LIMITS = {"*": 100, "MAIL": 1000, "RCPT": 100_000, "DATA": 1000, "RSET": 1000, "NOOP": 1000}


class PeerLimit:
    """Counts open connections per client address (shared by both listeners)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def admit(self, peer: str) -> bool:
        if self.open[peer] >= self.limit:
            return False
        self.open[peer] += 1
        return True

    def release(self, peer: str) -> None:
        self.open[peer] -= 1
        if self.open[peer] <= 0:
            del self.open[peer]


class LdapSMTP(SMTP):
    """aiosmtpd's SMTP with AUTH checked by an LDAP bind off the event loop, and connection limits."""

    _scanned: ClassVar[dict[type, list[str]]] = {}

    def __init__(self, handler: MailHandler, *, logins: LoginService, limit: PeerLimit, plaintext_loopback: bool,
                 **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.mail_handler = handler
        self.logins = logins
        self.limit = limit
        self.plaintext_loopback = plaintext_loopback
        self._peer_host: str | None = None
        self._credentials: LoginPassword | None = None
        self._continued: list[bytes] = []

    def __dir__(self) -> list[str]:
        """The auth_* and smtp_* names only, found once per class.

        aiosmtpd 1.4's __init__ finds its AUTH mechanisms and commands with inspect.getmembers(self)
        and dir(self) on every connection: ~0.1 ms idle, ~0.4 ms of a busy event loop, for names that
        never change. Nothing else calls dir() on a protocol object (tests/smtp/test_bad_clients.py
        checks that every mechanism and command is still found).
        """
        names = LdapSMTP._scanned.get(type(self))
        if names is None:
            names = [name for name in object.__dir__(self) if name.startswith(SCANNED_PREFIXES)]
            LdapSMTP._scanned[type(self)] = names
        return list(names)

    async def push(self, status: AnyStr) -> None:
        """Send a reply line; the lines of a multi-line reply (`250-…`) go out with its last one.

        aiosmtpd writes every line on its own (a send() each: EHLO is five); one write per reply
        saves the system calls, and a client reads a multi-line reply whole anyway.
        """
        line = status.encode("utf-8" if self.enable_SMTPUTF8 else "ascii") if isinstance(status, str) else status
        if line[3:4] == b"-" and line[:3].isdigit():
            self._continued.append(line)
            return
        lines, self._continued = [*self._continued, line], []
        await super().push(b"\r\n".join(lines))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._peer_host is not None or self._original_transport is not None:
            super().connection_made(transport)  # the TLS transport after STARTTLS
            return
        peer = transport.get_extra_info("peername")
        host = str(peer[0]) if peer else "unknown"
        if not self.limit.admit(host):
            transport.write(b"421 4.7.0 Too many connections from your address, try later\r\n")  # type: ignore[attr-defined]
            transport.close()
            return
        self._peer_host = host
        if self.plaintext_loopback and _is_loopback(host):  # development flag only
            self._auth_require_tls = False
            self.require_starttls = False
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._peer_host is None:
            return  # refused at connect: nothing was set up
        self.limit.release(self._peer_host)
        self._peer_host = None
        super().connection_lost(error)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's address parsing, with a truncated address (`<`, `<a@`) a malformed one (553).

        The stdlib parser behind it raises IndexError on those, and aiosmtpd catches only
        HeaderParseError: the client got `500 Error: (IndexError)` and the log a traceback.
        """
        try:
            return super()._getaddr(arg)
        except IndexError:
            return None, None

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        self._credentials = auth_data  # checked asynchronously in _verify
        return AuthResult(success=False, handled=False)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._verify(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._verify(await super().auth_LOGIN(_, args))

    async def _verify(self, parsed: AuthResult) -> AuthResult:
        credentials, self._credentials = self._credentials, None
        if credentials is None:
            return parsed  # malformed exchange: aiosmtpd already answered
        try:
            login = credentials.login.decode("utf-8")
            password = credentials.password.decode("utf-8")
        except UnicodeDecodeError:
            return AuthResult(success=False, handled=False, message=AUTH_INVALID)
        if not login or not password or len(login) + len(password) > MAX_CREDENTIAL:
            self.mail_handler.metrics.login(Result.REFUSED)
            return AuthResult(success=False, handled=False, message=AUTH_INVALID)
        outcome = await self.mail_handler.blocking(self.logins.login, login, password, self._peer_host or "")
        self.mail_handler.metrics.login(outcome.result)
        if outcome.result is Result.OK and outcome.account is not None:
            return AuthResult(success=True, auth_data=outcome.account.user)
        return AuthResult(success=False, handled=False, message=AUTH_REFUSALS.get(outcome.result, AUTH_INVALID))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Listening:
    """The ports actually bound (useful when the config says 0: any free port)."""

    port: int
    submission_port: int
    metrics_port: int = 0  # 0: metrics off


class SmtpService:
    """Both listeners on one event loop (with reuse_port, one of several processes sharing the ports)."""

    def __init__(self, config: SmtpConfig, routing: MailRoutingStore, threads: int = 8, *,
                 reuse_port: bool = False) -> None:
        self.config = config
        self.routing = routing
        self.reuse_port = reuse_port
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="smtpd-ldap")
        self.metrics = SmtpMetrics(routing.client.operations.snapshot)
        self.handler = MailHandler(config, routing, self.executor, self.metrics)
        self.limit = PeerLimit(config.max_connections_per_client)
        self.logins = smtp_logins(routing, config)
        self._servers: list[asyncio.Server] = []

    def _factory(self, *, submission: bool) -> Any:
        config = self.config
        if config.self_signed:
            ensure_self_signed(config.tls_cert, config.tls_key, config.hostname)
        context = server_context(config.tls_cert, config.tls_key)
        loop = asyncio.get_running_loop()

        def make() -> LdapSMTP:
            return LdapSMTP(
                self.handler, logins=self.logins, limit=self.limit,
                plaintext_loopback=config.plaintext_auth_on_loopback, hostname=config.hostname,
                tls_context=context, require_starttls=submission,
                auth_required=submission, auth_require_tls=True, data_size_limit=config.max_message_bytes,
                timeout=config.timeout_seconds, command_call_limit=COMMAND_LIMITS, loop=loop,
            )
        return make

    async def start(self) -> Listening:
        """Bind both ports; returns the ports bound."""
        loop = asyncio.get_running_loop()
        for port, submission in ((self.config.port, False), (self.config.submission_port, True)):
            server = await loop.create_server(self._factory(submission=submission), self.config.host, port,
                                              reuse_port=self.reuse_port or None)
            self._servers.append(server)
        ports = [server.sockets[0].getsockname()[1] for server in self._servers]
        metrics_port = self.metrics.serve(self.config.host, self.config.metrics_port) if self.config.metrics_port else 0
        return Listening(ports[0], ports[1], metrics_port)

    async def stop(self) -> None:
        """Close the listeners and the worker threads."""
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self._servers.clear()
        self.metrics.stop()
        self.executor.shutdown(wait=True)


class ServiceThread:
    """Runs an SmtpService on its own event loop in a thread (tests, benchmarks)."""

    def __init__(self, service: SmtpService) -> None:
        self.service = service
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="smtpd", daemon=True)
        self.listening: Listening | None = None

    def start(self) -> Listening:
        self.thread.start()
        self.listening = asyncio.run_coroutine_threadsafe(self.service.start(), self.loop).result(timeout=30)
        return self.listening

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


async def serve_until_signalled(service: SmtpService, on_ready: Callable[[Listening], None],
                                stop_when_readable: int | None = None,
                                signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)) -> None:
    """Run until one of `signals` (or `stop_when_readable` can be read: a supervisor gone), then close cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    if stop_when_readable is not None:
        watched = stop_when_readable

        def gone() -> None:
            loop.remove_reader(watched)
            stop.set()
        loop.add_reader(watched, gone)
    on_ready(await service.start())
    try:
        await stop.wait()
    finally:
        await service.stop()
