"""An interrupted reorganisation, resumed, ends exactly where an uninterrupted one does."""

from __future__ import annotations

import pytest

from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, eventually
from tests.reorg.conftest import PLAN, dump


class Stop(KeyboardInterrupt):
    """Ctrl-C at a chosen point of the apply."""


def stop_after(writes: int):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int) -> None:
        if done >= writes:
            raise Stop
    return progress


@pytest.mark.parametrize("writes", [3, 30, 60, 75])
def test_resume_ends_like_an_uninterrupted_run(small: RunningDirectory, writes: int) -> None:
    services: Services = small.services
    first = services.reorg.apply(services.reorg.start(services.reorg.preview(PLAN.read_bytes())))
    uninterrupted = dump(services)
    services.reorg.undo(first["job"])
    job = services.reorg.start(services.reorg.preview(PLAN.read_bytes()))
    with pytest.raises(Stop):
        services.reorg.apply(job, stop_after(writes))
    assert services.reorg.status(job.id)["state"] == "applying"
    result = services.reorg.resume(job.id)
    assert result["failed_count"] == 0
    eventually(lambda: _same(dump(services), uninterrupted))


def _same(now: dict[str, object], wanted: dict[str, object]) -> None:
    assert now == wanted
