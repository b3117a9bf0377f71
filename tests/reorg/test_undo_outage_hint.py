"""`mailadmin reorg undo` that loses the directory names the command that carries the undo on (`reorg undo
JOB`): `reorg resume` refuses a job being undone."""

from __future__ import annotations

from tests.conftest import RunningDirectory
from tests.importer.test_undo_outage_hint import undo_cut_off_then_again
from tests.reorg.conftest import PLAN


def test_a_reorg_undo_cut_off_says_to_run_the_undo_again(small: RunningDirectory) -> None:
    reorg = small.services.reorg
    job = reorg.start(reorg.preview(PLAN.read_bytes(), "plan-small.yaml"))
    reorg.apply(job)
    undo_cut_off_then_again(small, "reorg", job.id)
    assert reorg.status(job.id)["state"] == "undone"
