"""Failover between directory servers, including one that accepts connections and never answers.

ldap3's FIRST pool checks a server by opening a TCP connection; a hung slapd (SIGSTOPped, swapping,
deadlocked) still accepts them, so the pool would choose it again and again, each time for a whole
`ldap.receive_timeout`. Here a server that timed out, dropped a connection or answered busy /
unavailable is passed over (put last) by every client of the process; a background probe with a
short timeout brings it back once it answers again, so no request waits for a hung server twice.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence

from ldap3 import BASE, FIRST, NONE, Connection, Server, ServerPool
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory.tls import VerifiedTls
from mailadmin.errors import DirectoryUnavailable, unreachable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5.0  # a server passed over is probed again after this long
PROBE_TIMEOUT_SECONDS = 1
# LDAP results that say "try another server": busy, unavailable.
FAILOVER_RESULTS = frozenset({51, 52})


class FailedOver(DirectoryUnavailable):
    """A server timed out, dropped the connection or was busy: the next one may be tried."""

    def __init__(self, uris: str, reason: str) -> None:
        super().__init__(unreachable(uris, reason).message)


class _Health:
    """Servers passed over, shared by every client of the process: URI -> time of the next probe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down: dict[str, float] = {}
        self.probing: set[str] = set()


_HEALTH = _Health()


def server_uri(server: Server) -> str:
    """The URI a Server was made from (ldap3 keeps scheme, host and port apart)."""
    scheme = "ldaps" if server.ssl else "ldap"
    return f"{scheme}://{server.host}:{server.port}"


class Failover:
    """The servers of one client in failover order: configured order, servers passed over last."""

    def __init__(self, uris: Sequence[str], tls: VerifiedTls, connect_timeout: int) -> None:
        self.uris = tuple(uris)
        self._servers = [Server(uri, connect_timeout=connect_timeout, get_info=NONE, tls=tls) for uri in uris]

    def pool(self) -> ServerPool:
        """A FIRST pool over the servers, the healthy ones first (in configured order)."""
        return ServerPool(self.ordered(), FIRST, active=1, exhaust=False)

    def ordered(self) -> list[Server]:
        """Healthy servers in configured order, then those passed over; probes those due."""
        down = self.probe_due()
        healthy = [server for server in self._servers if server_uri(server) not in down]
        return healthy + sorted((s for s in self._servers if server_uri(s) in down),
                                key=lambda s: down[server_uri(s)])

    def probe_due(self) -> dict[str, float]:
        """Start a background probe of every passed-over server whose time has come; the passed-over ones."""
        with _HEALTH.lock:
            down = dict(_HEALTH.down)
        for server in self._servers:
            if down.get(server_uri(server), float("inf")) <= time.monotonic():
                _probe_later(server)
        return down

    def silent(self, uri: str) -> bool:
        """Is the configured server at `uri` frozen (module function `silent`)? False for one not configured."""
        return any(silent(server) for server in self._servers if server_uri(server) == uri)

    @property
    def attempts(self) -> int:
        """How many servers a request may try."""
        return max(len(self._servers), 1)

    def usable(self, connection: Connection) -> bool:
        """Whether a kept connection is on the server now preferred (else it is dropped, not used).

        A server passed over is left at once; once the first server answers again, connections to
        the others are replaced one by one as they are taken, so the load goes back to it.
        """
        server = getattr(connection, "server", None)
        if not isinstance(server, Server):
            return True
        return server_uri(server) == server_uri(self.ordered()[0])

    def down(self, connection: Connection | None) -> None:
        """Pass over the server of a connection that timed out, was dropped or answered busy."""
        server = getattr(connection, "server", None)
        if isinstance(server, Server):
            mark_down(server_uri(server))


def mark_down(uri: str) -> None:
    """Pass over a server until a probe finds it answering."""
    with _HEALTH.lock:
        if uri not in _HEALTH.down:
            log.warning("directory server %s does not answer: using the next one", uri)
        _HEALTH.down[uri] = time.monotonic() + RETRY_AFTER_SECONDS


def passed_over(uri: str) -> bool:
    """Whether a server is currently passed over."""
    with _HEALTH.lock:
        return uri in _HEALTH.down


def _probe_later(server: Server) -> None:
    uri = server_uri(server)
    with _HEALTH.lock:
        if uri in _HEALTH.probing:
            return
        _HEALTH.probing.add(uri)
    threading.Thread(target=_probe, args=(server,), name=f"probe {uri}", daemon=True).start()


def _probe(server: Server) -> None:
    """Read the root DSE with a short timeout: any answer brings the server back."""
    uri = server_uri(server)
    alive = answers(server)
    with _HEALTH.lock:
        _HEALTH.probing.discard(uri)
        if alive:
            _HEALTH.down.pop(uri, None)
        else:
            _HEALTH.down[uri] = time.monotonic() + RETRY_AFTER_SECONDS
    if alive:
        log.warning("directory server %s answers again", uri)


def silent(server: Server) -> bool:
    """Does the server accept connections yet answer nothing (frozen: SIGSTOP, a stalled disk)?

    One that refuses them or cannot be reached is not: whatever it held died with it, or it is cut off
    from its peers as well as from us.
    """
    try:
        socket.create_connection((server.host, server.port), timeout=PROBE_TIMEOUT_SECONDS).close()
    except OSError:
        return False
    return not answers(server)


def answers(server: Server) -> bool:
    """Whether the server answers an anonymous root DSE read within PROBE_TIMEOUT_SECONDS."""
    probe = Server(server.host, port=server.port, use_ssl=server.ssl, tls=server.tls,
                   connect_timeout=PROBE_TIMEOUT_SECONDS, get_info=NONE)
    connection = Connection(probe, receive_timeout=PROBE_TIMEOUT_SECONDS, raise_exceptions=False)
    try:
        connection.open(read_server_info=False)
        connection.search("", "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
        return connection.result is not None and "result" in connection.result
    except (ldap_errors.LDAPException, OSError):
        return False
    finally:
        close_quietly(connection)


def close_quietly(connection: Connection) -> None:
    """Unbind and close; a connection already broken is simply dropped, its socket closed all the same.

    ldap3's unbind closes the socket only after sending the request: to a killed server the send
    fails and the socket stayed open until garbage collection (a ResourceWarning under pytest).
    """
    try:
        connection.unbind()
    except (ldap_errors.LDAPException, OSError):
        pass
    finally:
        _close_socket(connection)


def _close_socket(connection: Connection) -> None:
    raw = getattr(connection, "socket", None)
    if raw is not None:
        try:
            raw.close()
        except OSError:
            pass
