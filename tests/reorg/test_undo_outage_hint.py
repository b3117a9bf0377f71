"""`mailadmin reorg undo` that loses the directory names the command that carries the undo on (`reorg undo
JOB`): `reorg resume` refuses a job being undone."""

from __future__ import annotations

from tests.conftest import RunningDirectory, child_environ, mailadmin_process
from tests.reorg.conftest import PLAN


def test_a_reorg_undo_cut_off_says_to_run_the_undo_again(small: RunningDirectory) -> None:
    reorg = small.services.reorg
    job = reorg.start(reorg.preview(PLAN.read_bytes(), "plan-small.yaml"))
    reorg.apply(job)
    small.slapd.stop()
    with mailadmin_process("reorg", "undo", job.id, environ=child_environ(small)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 6 and "Traceback" not in stderr, stderr
    assert f"mailadmin reorg undo {job.id}" in stderr and "reorg resume" not in stderr
    small.slapd.start()
    with mailadmin_process("reorg", "undo", job.id, environ=child_environ(small)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert reorg.status(job.id)["state"] == "undone"
