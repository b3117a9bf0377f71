"""Liveness, readiness and metrics for load balancers and monitoring: no login, no session."""

from __future__ import annotations

import ipaddress
import time
from collections import Counter
from collections.abc import Sequence

from flask import Blueprint, Flask, current_app, g, jsonify, request
from werkzeug.wrappers import Response

from mailadmin.errors import ConfigError, MailadminError
from mailadmin.i18n import t
from mailadmin.importer.journal import Job
from mailadmin.metrics import CONTENT_TYPE, WebMetrics
from mailadmin.settings import Settings
from mailadmin.web import services

bp = Blueprint("health", __name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# What the login view answers (auth.login): the outcome a monitoring dashboard wants.
LOGIN_OUTCOMES = {302: "ok", 303: "ok", 401: "failed", 429: "throttled"}


def init_app(app: Flask, settings: Settings) -> None:
    """Register the endpoints and the request counting."""
    app.extensions["mailadmin.metrics_allow"] = (*LOOPBACK, *allowed_networks(settings.web.metrics_allow))
    app.extensions["mailadmin.metrics"] = WebMetrics(lambda: _ldap_operations(app),
                                                     lambda: _import_jobs(settings))
    app.before_request(_start_clock)
    app.after_request(_count)
    app.register_blueprint(bp)


def allowed_networks(entries: Sequence[str]) -> list[Network]:
    """web.metrics_allow as networks; a bad entry is a configuration error."""
    try:
        return [ipaddress.ip_network(entry, strict=False) for entry in entries]
    except ValueError as exc:
        raise ConfigError(t("web.metrics_allow: {e} (cần địa chỉ IP hoặc mạng CIDR)",
                            "web.metrics_allow: {e} (an IP address or CIDR network expected)", e=exc)) from exc


def _metrics() -> WebMetrics:
    return current_app.extensions["mailadmin.metrics"]


def _ldap_operations(app: Flask) -> dict[str, int]:
    client = app.extensions["mailadmin"].__dict__.get("client")  # never opened just to be counted
    return client.operations.snapshot() if client is not None else {}


def _import_jobs(settings: Settings) -> dict[str, int]:
    states: Counter[str] = Counter()
    for job in Job.every(settings.state_dir / "jobs"):
        try:
            states[job.state] += 1
        except (OSError, ValueError, KeyError):
            states["unreadable"] += 1
    return dict(states)


def _start_clock() -> None:
    g.started = time.perf_counter()


def _count(response: Response) -> Response:
    endpoint = request.endpoint or "unmatched"
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    _metrics().request(endpoint, request.method, response.status_code, elapsed)
    if endpoint == "auth.login" and request.method == "POST" and response.status_code in LOGIN_OUTCOMES:
        _metrics().login(LOGIN_OUTCOMES[response.status_code])
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers (asks the directory nothing)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The directory answers a bind and a base read within ldap.receive_timeout; else 503 and why."""
    try:
        services().client.probe()
    except MailadminError as error:
        return jsonify(status="unready", reason=error.message.render("en"),
                       reason_vi=error.message.render("vi")), 503
    return jsonify(status="ready"), 200


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, for loopback and web.metrics_allow only."""
    client = ipaddress.ip_address(request.remote_addr or "0.0.0.0")
    if not any(client in network for network in current_app.extensions["mailadmin.metrics_allow"]):
        return Response("Không được phép / forbidden\n", status=403, mimetype="text/plain")
    return Response(_metrics().render(), mimetype=CONTENT_TYPE)
