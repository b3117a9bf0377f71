"""Prometheus metrics of one `mailadmin smtpd` process, served on a loopback port of its own.

smtpd has no web server to hang /metrics on, so prometheus_client's own HTTP server runs in a
thread (smtp.metrics_port; worker k of several serves port + k, as their counters are per process).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, start_http_server

from mailadmin.metrics import LdapOperations
from mailadmin.services.auth import Result

LOGIN_OUTCOMES = {Result.OK: "ok", Result.REFUSED: "failed", Result.LOCKED: "locked",
                  Result.THROTTLED: "throttled", Result.MUST_CHANGE: "must_change",
                  Result.UNAVAILABLE: "unavailable"}


class SmtpMetrics:
    """Counters of logins and messages, and the directory client's operation counts when scraped."""

    def __init__(self, ldap_operations: Callable[[], Mapping[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.logins = Counter("mailadmin_smtp_logins", "SMTP AUTH attempts by outcome "
                              "(ok, failed, locked, throttled, must_change, unavailable)", ["outcome"],
                              registry=self.registry)
        self.messages = Counter("mailadmin_smtp_messages", "Messages accepted, and refused (each refused "
                                "recipient, each failed delivery)", ["outcome"], registry=self.registry)
        self.registry.register(LdapOperations(ldap_operations))
        self._server: tuple[WSGIServer, Thread] | None = None

    def login(self, result: Result) -> None:
        """Count one AUTH attempt."""
        self.logins.labels(LOGIN_OUTCOMES[result]).inc()

    def message(self, accepted: bool) -> None:
        """Count one accepted message or one refusal."""
        self.messages.labels("accepted" if accepted else "refused").inc()

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on host:port in a thread; the port bound."""
        self._server = start_http_server(port, host, registry=self.registry)
        return int(self._server[0].server_port)

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)
            self._server = None
