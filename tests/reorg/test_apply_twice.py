"""A reorganisation job runs once at a time: a second apply (or resume) while one is applying is refused in
both languages, writes nothing of its own, and the first run ends as if alone; a finished job is refused too."""

from __future__ import annotations

import pytest

from mailadmin.errors import Conflict
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN


def test_a_second_apply_while_one_is_applying_is_refused(small: RunningDirectory) -> None:
    services: Services = small.services
    job = services.reorg.start(services.reorg.preview(PLAN.read_bytes(), "plan-small.yaml"))
    refusals: list[Conflict] = []

    def progress(done: int, total: int) -> None:
        if done == 5 and not refusals:
            for second in (lambda: services.reorg.apply(services.reorg.job(job.id)),
                           lambda: services.reorg.resume(job.id)):
                with pytest.raises(Conflict) as refused:
                    second()
                refusals.append(refused.value)

    result = services.reorg.apply(job, progress)
    assert result["failed_count"] == 0 and len(refusals) == 2
    for refusal in refusals:
        assert job.id in refusal.message.render("vi") and "đang chạy" in refusal.message.render("vi")
        assert job.id in refusal.message.render("en") and "running" in refusal.message.render("en")
    assert services.reorg.status(job.id)["state"] == "done"
    with pytest.raises(Conflict) as again:
        services.reorg.resume(job.id)
    assert "đã done" in again.value.message.render("vi") and "already done" in again.value.message.render("en")
