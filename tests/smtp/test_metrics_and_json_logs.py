"""`mailadmin smtpd` with smtp.metrics_port and log.format json; `mailadmin serve` with JSON logs.

The metrics are scraped over HTTP and parsed with Prometheus' own text-format parser; every line
the processes write to standard error must be one JSON object.
"""

from __future__ import annotations

import json
import signal
import smtplib
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.smtp.conftest import PASSWORD, message, new_mailbox
from tests.smtp.test_auth_throttle import auth


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics: (name, labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode("utf-8")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def json_lines(stderr: str) -> list[dict[str, object]]:
    """Each non-empty line parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def test_smtpd_metrics_count_logins_messages_and_ldap_and_logs_are_json(
        directory: RunningDirectory, services: Services, unit: Unit, tmp_path: Path) -> None:
    port, submission, metrics = free_port(), free_port(), free_port()
    environ = child_environ(directory, smtp_port=str(port), smtp_submission_port=str(submission),
                            smtp_spool_dir=str(tmp_path / "mail"), smtp_metrics_port=str(metrics), log_format="json")
    uid, mail = new_mailbox(services, unit, "Đinh Văn Đo Lường")
    with mailadmin_process("smtpd", environ=environ) as process:
        wait_for_port(submission, process)
        assert auth(submission, uid, PASSWORD) == 235
        assert auth(submission, uid, "Sai-mat-khau-2026") == 535
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ai@example.org", [mail], message("ai@example.org", mail))
            client.mail("ai@example.org")
            code, _ = client.rcpt(f"khong-co-{unit.code.lower()}@phuyen.gov.vn")
            assert code == 550
        samples = scrape(metrics)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{metrics}/metrics" in out
    assert samples[("mailadmin_smtp_logins_total", (("outcome", "ok"),))] == 1
    assert samples[("mailadmin_smtp_logins_total", (("outcome", "failed"),))] == 1
    assert samples[("mailadmin_smtp_messages_total", (("outcome", "accepted"),))] == 1
    assert samples[("mailadmin_smtp_messages_total", (("outcome", "refused"),))] == 1
    assert samples[("mailadmin_ldap_operations_total", (("outcome", "ok"),))] > 0
    records = json_lines(err)
    assert records and all({"time", "level", "logger", "message"} <= record.keys() for record in records)


def test_smtpd_serves_no_metrics_by_default(directory: RunningDirectory, tmp_path: Path) -> None:
    port, submission = free_port(), free_port()
    environ = child_environ(directory, smtp_port=str(port), smtp_submission_port=str(submission),
                            smtp_spool_dir=str(tmp_path / "mail"))
    with mailadmin_process("smtpd", environ=environ) as process:
        wait_for_port(submission, process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "/metrics" not in out


def test_serve_writes_one_json_object_per_log_line(directory: RunningDirectory) -> None:
    port = free_port()
    environ = child_environ(directory, log_format="json")
    with mailadmin_process("serve", "--port", str(port), environ=environ) as process:
        wait_for_port(port, process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    records = json_lines(err)
    assert any(str(record["message"]).startswith("Web admin on http://127.0.0.1:") for record in records), err


def test_an_unknown_log_format_is_a_config_error(directory: RunningDirectory) -> None:
    environ = child_environ(directory, log_format="xml")
    with mailadmin_process("serve", "--port", str(free_port()), environ=environ) as process:
        _, err = process.communicate(timeout=60)
    assert process.returncode == 8
    assert "log.format phải là text hoặc json" in err and "log.format must be text or json" in err
    assert "Traceback" not in err
