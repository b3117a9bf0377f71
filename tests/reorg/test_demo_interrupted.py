"""Issue 13's acceptance: killing the CLI or slapd in the middle of the demo's reorganisation, then resuming,
ends in the same directory as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailadmin.errors import DirectoryUnavailable
from mailadmin.services.demo import demo_admin_password, seed_demo
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, eventually, mailadmin_process, make_settings
from tests.reorg.conftest import dump
from tests.reorg.test_demo_acceptance import SHIPPED

pytestmark = pytest.mark.slow


def start(services: Services) -> Any:
    return services.reorg.start(services.reorg.preview(SHIPPED.read_bytes(), SHIPPED.name))


def wait_for_journal(folder: Path, size: int, alive: Callable[[], bool]) -> None:
    """Until the job's journal holds `size` bytes of outcomes (a few thousand writes made)."""
    deadline = time.monotonic() + 300
    log = folder / "done.log"
    while time.monotonic() < deadline and alive():
        if log.exists() and log.stat().st_size >= size:
            return
        time.sleep(0.01)
    raise AssertionError("the reorganisation never got that far")


def kill_the_cli_mid_apply(running: RunningDirectory, jobs: Path) -> str:
    environ = child_environ(running)
    known = set(jobs.glob("*"))
    with mailadmin_process("reorg", "apply", str(SHIPPED), "--json", environ=environ) as process:
        eventually(lambda: _new_job(jobs, known), seconds=120)
        [folder] = set(jobs.glob("*")) - known
        wait_for_journal(folder, 30_000, lambda: process.poll() is None)  # ~3,500 writes journaled
        process.send_signal(signal.SIGKILL)
        process.communicate()
    return folder.name


def _new_job(jobs: Path, known: set[Path]) -> None:
    assert set(jobs.glob("*")) - known


def test_killing_the_cli_or_slapd_then_resuming_ends_like_an_uninterrupted_run(tmp_path: Path) -> None:
    running = RunningDirectory(make_settings(tmp_path / "state"))
    try:
        services = running.services
        seed_demo(services, demo_admin_password(running.settings))
        uninterrupted = services.reorg.apply(start(services))
        wanted = dump(services)
        services.reorg.undo(uninterrupted["job"])

        job = kill_the_cli_mid_apply(running, services.reorg.jobs_dir)
        assert services.reorg.status(job)["state"] == "applying"
        with mailadmin_process("reorg", "resume", job, "--json", environ=child_environ(running)) as process:
            out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert json.loads(out)["failed_count"] == 0
        eventually(lambda: _same(dump(services), wanted), seconds=60)
        services.reorg.undo(job)

        job = _kill_slapd_mid_apply(running)
        running.slapd.start()
        assert services.reorg.resume(job)["failed_count"] == 0
        eventually(lambda: _same(dump(services), wanted), seconds=60)
    finally:
        running.stop()


def _kill_slapd_mid_apply(running: RunningDirectory) -> str:
    services = running.services
    job = start(services)
    pid = running.slapd.running_pid()
    assert pid is not None

    def kill_slapd_among_the_moves(done: int, total: int) -> None:
        if done >= 9000 and running.slapd.running_pid() is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # slapd is this process's child: reap it

    with pytest.raises(DirectoryUnavailable):
        services.reorg.apply(job, kill_slapd_among_the_moves)
    assert job.state == "applying"
    return str(job.id)


def _same(now: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert now == wanted
