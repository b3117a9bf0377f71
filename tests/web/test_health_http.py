"""/healthz, /readyz and /metrics: no login, a hung directory makes the app unready, metrics parse."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from mailadmin import create_app
from mailadmin.errors import ConfigError
from tests.conftest import (
    RunningDirectory,
    child_environ,
    free_port,
    mailadmin_process,
    make_settings,
    wait_for_port,
)
from tests.web.conftest import login

RECEIVE_TIMEOUT = "2"


def get(port: int, path: str) -> tuple[int, dict]:
    """GET from the real server; status and JSON body."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) -> value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture
def hangable(tmp_path: Path) -> Iterator[RunningDirectory]:
    """A slapd of this test's own (it gets SIGSTOPped), with a short receive timeout."""
    running = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_LDAP_RECEIVE_TIMEOUT=RECEIVE_TIMEOUT),
                               load_units=False)
    yield running
    os.kill(running.slapd.running_pid() or 0, signal.SIGCONT)
    running.stop()


def test_readyz_turns_unready_while_slapd_hangs_and_ready_after(hangable: RunningDirectory) -> None:
    port = free_port()
    environ = child_environ(hangable, ldap_receive_timeout=RECEIVE_TIMEOUT)
    with mailadmin_process("serve", "--port", str(port), environ=environ) as server:
        wait_for_port(port, server)
        assert get(port, "/readyz") == (200, {"status": "ready"})
        pid = hangable.slapd.running_pid()
        assert pid
        os.kill(pid, signal.SIGSTOP)
        try:
            status, body = get(port, "/readyz")
            assert status == 503 and body["status"] == "unready"
            assert "unreachable" in body["reason"] and "ldap://127.0.0.1" in body["reason"]
            assert get(port, "/healthz") == (200, {"status": "ok"})  # the process itself is fine
        finally:
            os.kill(pid, signal.SIGCONT)
        assert get(port, "/readyz") == (200, {"status": "ready"})


def test_health_and_readiness_need_no_login(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["Cache-Control"] == "no-store"


def test_metrics_parse_and_count_requests_logins_and_ldap(app: Flask, client: FlaskClient) -> None:
    before = samples(client.get("/metrics").get_data(as_text=True))
    assert login(client, "khongai", "Sai-mat-khau-2026").status_code == 401
    client.get("/healthz")
    client.get("/khong-co-trang-nay")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    after = samples(response.get_data(as_text=True))

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0.0)
    assert grew("mailadmin_http_requests_total", endpoint="health.healthz", method="GET", status="200") == 1
    assert grew("mailadmin_http_requests_total", endpoint="auth.login", method="POST", status="401") == 1
    assert grew("mailadmin_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    assert grew("mailadmin_http_request_duration_seconds_count", endpoint="health.healthz") == 1
    assert grew("mailadmin_logins_total", outcome="failed") == 1
    assert grew("mailadmin_ldap_operations_total", outcome="ok") >= 1  # the login looked the name up
    assert "# TYPE mailadmin_import_jobs gauge" in response.get_data(as_text=True)


def test_healthz_asks_the_directory_nothing(client: FlaskClient) -> None:
    before = samples(client.get("/metrics").get_data(as_text=True))
    for _ in range(3):
        client.get("/healthz")
    after = samples(client.get("/metrics").get_data(as_text=True))
    ldap = [key for key in after if key[0] == "mailadmin_ldap_operations_total"]
    assert all(after[key] == before.get(key, 0.0) for key in ldap)


def test_metrics_are_refused_beyond_loopback_unless_allowed(directory: RunningDirectory, app: Flask) -> None:
    outsider = app.test_client()
    outsider.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    refused = outsider.get("/metrics")
    assert refused.status_code == 403 and "Prometheus" not in refused.get_data(as_text=True)
    assert outsider.get("/healthz").status_code == 200
    settings = make_settings(directory.settings.state_dir, MAILADMIN_SLAPD_PORT=str(directory.settings.slapd.port),
                             MAILADMIN_WEB_METRICS_ALLOW="10.0.0.0/8, 203.0.113.0/24")
    allowed_app = create_app({"TESTING": True}, settings=settings)
    try:
        monitor = allowed_app.test_client()
        monitor.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        assert monitor.get("/metrics").status_code == 200
        monitor.environ_base["REMOTE_ADDR"] = "198.51.100.1"
        assert monitor.get("/metrics").status_code == 403
    finally:
        allowed_app.extensions["mailadmin"].close()


def test_a_bad_metrics_allow_entry_is_a_config_error(directory: RunningDirectory) -> None:
    settings = make_settings(directory.settings.state_dir, MAILADMIN_SLAPD_PORT=str(directory.settings.slapd.port),
                             MAILADMIN_WEB_METRICS_ALLOW="everyone")
    with pytest.raises(ConfigError, match="web.metrics_allow"):
        create_app({"TESTING": True}, settings=settings)
