"""`mailadmin smtpd` as scripts/run starts it: a process that serves until SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.smtp.conftest import PASSWORD, client_tls, message, new_mailbox


def smtpd_environ(directory: RunningDirectory, port: int, submission: int, tmp_path: Path) -> dict[str, str]:
    return child_environ(directory, smtp_port=str(port), smtp_submission_port=str(submission),
                         smtp_spool_dir=str(tmp_path / "mail"))


def smtpd_process(environ: dict[str, str]) -> AbstractContextManager[subprocess.Popen[str]]:
    """`mailadmin smtpd` as a child process."""
    return mailadmin_process("smtpd", environ=environ)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_smtpd_command_serves_and_stops_on_a_signal(directory: RunningDirectory, services: Services, unit: Unit,
                                                    tmp_path, stop_signal: signal.Signals) -> None:
    port, submission = free_port(), free_port()
    environ = smtpd_environ(directory, port, submission, tmp_path)
    uid, mail = new_mailbox(services, unit, "Lục Văn Dòng Lệnh")
    with smtpd_process(environ) as process:
        wait_for_port(submission, process)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ai@example.org", [mail], message("ai@example.org", mail))
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"127.0.0.1:{port}" in out and f"127.0.0.1:{submission}" in out and "Traceback" not in err
    assert len(list((tmp_path / "mail" / uid / "new").iterdir())) == 1


def test_two_workers_serve_a_dead_one_is_replaced_and_stopping_leaves_nothing(
        directory: RunningDirectory, services: Services, unit: Unit, tmp_path: Path) -> None:
    port, submission = free_port(), free_port()
    environ = {**smtpd_environ(directory, port, submission, tmp_path), "MAILADMIN_SMTP_WORKERS": "2"}
    uid, mail = new_mailbox(services, unit, "Lục Thị Hai Tiến Trình")
    with smtpd_process(environ) as process:
        assert process.stdout is not None
        first = announced_workers(process)
        assert len(first) == 2 and sorted(workers_of(process.pid)) == first
        for _ in range(6):  # connections spread over both processes by the kernel; every one is served
            assert login(submission, uid) == 235
        os.kill(first[0], signal.SIGKILL)
        # reaped by the parent: every thread gone, its listening sockets closed (a zombie leader is not enough)
        wait_until(lambda: not Path(f"/proc/{first[0]}").exists())
        assert login(submission, uid) == 235  # the other worker answers
        wait_until(lambda: len(workers_of(process.pid)) == 2)
        second = workers_of(process.pid)
        assert first[1] in second and first[0] not in second
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("ai@example.org", [mail], message("ai@example.org", mail))
        family = descendants(process.pid)
        assert set(second) <= set(family)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"SMTP worker {first[0]} exited (signal SIGKILL): starting another" in err and "Traceback" not in err
    wait_until(lambda: not any(alive(pid) for pid in family))
    assert len(list((tmp_path / "mail" / uid / "new").iterdir())) == 1


def test_workers_stop_when_their_parent_is_killed(directory: RunningDirectory, tmp_path: Path) -> None:
    environ = {**smtpd_environ(directory, free_port(), free_port(), tmp_path), "MAILADMIN_SMTP_WORKERS": "2"}
    with smtpd_process(environ) as process:
        workers = announced_workers(process)
        family = descendants(process.pid)
        process.kill()  # SIGKILL: no chance to stop them
        process.communicate(timeout=30)
    assert len(workers) == 2 and set(workers) <= set(family)
    wait_until(lambda: not any(alive(pid) for pid in family))


def announced_workers(process: subprocess.Popen[str]) -> list[int]:
    """The worker pids the parent prints once every worker listens."""
    assert process.stdout is not None
    announced = next(line for line in process.stdout if line.startswith("Workers:"))
    return sorted(int(pid) for pid in announced.split("pids")[1].split())


def login(submission: int, uid: str) -> int:
    with smtplib.SMTP("127.0.0.1", submission, timeout=10) as client:
        client.starttls(context=client_tls())
        return client.login(uid, PASSWORD)[0]


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def descendants(pid: int) -> list[int]:
    found = children(pid)
    return found + [grandchild for child in found for grandchild in descendants(child)]


def workers_of(pid: int) -> list[int]:
    """The smtpd workers (spawned interpreters), not multiprocessing's resource tracker."""
    return [child for child in children(pid) if b"spawn_main" in _cmdline(child)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
