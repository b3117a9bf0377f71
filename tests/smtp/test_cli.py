"""`mailadmin smtpd` as scripts/run starts it: a process that serves until SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time

import pytest

from mailadmin.model import Unit
from mailadmin.services.context import Services
from tests.conftest import RunningDirectory, free_port
from tests.smtp.conftest import message, new_mailbox


def wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("mailadmin smtpd did not listen")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_smtpd_command_serves_and_stops_on_a_signal(directory: RunningDirectory, services: Services, unit: Unit,
                                                    tmp_path, stop_signal: signal.Signals) -> None:
    port, submission = free_port(), free_port()
    environ = {**os.environ, "MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
               "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port), "MAILADMIN_SMTP_PORT": str(port),
               "MAILADMIN_SMTP_SUBMISSION_PORT": str(submission), "MAILADMIN_SMTP_SPOOL_DIR": str(tmp_path / "mail")}
    uid, mail = new_mailbox(services, unit, "Lục Văn Dòng Lệnh")
    process = subprocess.Popen([sys.executable, "-m", "mailadmin", "smtpd"], env=environ, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(submission, process)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ai@example.org", [mail], message("ai@example.org", mail))
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"127.0.0.1:{port}" in out and f"127.0.0.1:{submission}" in out and "Traceback" not in err
    assert len(list((tmp_path / "mail" / uid / "new").iterdir())) == 1
