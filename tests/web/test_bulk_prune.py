"""Housekeeping of bulk jobs (var/bulk/) by the imports' rules: a job never applied goes after
imports.unconfirmed_hours with the form markers of that age; jobs applied, interrupted, finished or undone
keep their journals (status, resume and undo keep working), and a job another process holds is skipped."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailadmin.importer.bulk import BulkService
from mailadmin.model import Role, Status, Unit
from mailadmin.services.authz import Principal
from mailadmin.wiring import Services
from tests.web.test_bulk_cli import invoke
from tests.web.test_bulk_jobs_http import stop_after


def own_bulk(services: Services, state_dir: Path) -> BulkService:
    """The bulk service on the session directory, with a jobs folder of the test's own."""
    return BulkService(replace(services.settings, state_dir=state_dir), services.client, services.mailboxes,
                       services.audit)


def suspension(bulk: BulkService, admin: Principal, uids: list[str], submission: str = "") -> str:
    job, _ = bulk.start(bulk.select(admin, "suspend", bulk.chosen(uids)), submission, owner=admin.uid)
    return job.id


def test_only_jobs_never_applied_and_old_markers_are_pruned(person: Callable[..., str], unit: Unit,
                                                             services: Services, tmp_path: Path) -> None:
    bulk = own_bulk(services, tmp_path)
    admin = services.principal(person("Lưu Quản Trị Dọn Dẹp", unit, Role.SUPERADMIN))
    uids = [person(f"Lưu Văn Dọn Dẹp {n}", unit) for n in ("Một", "Hai", "Ba", "Bốn", "Năm", "Sáu", "Bảy")]
    never = suspension(bulk, admin, uids[:1], "form-never")  # the request ended before the first write
    done = suspension(bulk, admin, uids[1:2], "form-done")
    bulk.apply(bulk.job(done))
    interrupted = suspension(bulk, admin, uids[2:5])
    with pytest.raises(KeyboardInterrupt):
        bulk.apply(bulk.job(interrupted), stop_after(1))
    undone = suspension(bulk, admin, uids[5:6])
    bulk.apply(bulk.job(undone))
    bulk.undo(undone)
    held = suspension(bulk, admin, uids[6:7])

    now = datetime.now(UTC)
    assert bulk.prune(now + timedelta(hours=23)) == {"jobs": [], "markers": []}
    with bulk.job(held).locked():  # another process is about to apply it
        pruned = bulk.prune(now + timedelta(hours=25))
    assert pruned["jobs"] == [never] and len(pruned["markers"]) == 2
    assert {job["job"] for job in bulk.jobs()} == {done, interrupted, undone, held}
    assert not (tmp_path / "bulk" / never).exists() and not list((tmp_path / "bulk" / "submitted").iterdir())
    assert services.mailboxes.get(uids[0]).status is Status.ACTIVE  # nothing of it had been written

    # What stays still works: the interrupted job resumes, the finished one is undone, the held one applies.
    assert bulk.resume(interrupted)["failed_count"] == 0
    assert bulk.undo(done)["undone"] == 1
    assert bulk.apply(bulk.job(held))["done"] == 1
    assert [services.mailboxes.get(uid).status for uid in uids] == [Status.ACTIVE, Status.ACTIVE, *[
        Status.SUSPENDED] * 3, Status.ACTIVE, Status.SUSPENDED]
    assert bulk.prune(now + timedelta(days=400))["jobs"] == []


def test_a_marker_whose_job_is_gone_is_pruned_at_once(person: Callable[..., str], unit: Unit, services: Services,
                                                      tmp_path: Path) -> None:
    bulk = own_bulk(services, tmp_path)
    admin = services.principal(person("Lưu Quản Trị Dấu", unit, Role.SUPERADMIN))
    job = bulk.job(suspension(bulk, admin, [person("Lưu Văn Dấu", unit)], "form-gone"))
    job.remove()  # by hand, or by a prune in another process
    assert len(bulk.prune()["markers"]) == 1
    again = suspension(bulk, admin, [person("Lưu Thị Dấu", unit)], "form-gone")
    assert bulk.job(again).state == "planned"  # the form is no longer taken for a resend of a lost job


def test_import_prune_and_bulk_prune_on_the_command_line(person: Callable[..., str], unit: Unit,
                                                         services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = services.principal(person("Lưu Quản Trị Lệnh", unit, Role.SUPERADMIN))
    old = [services.bulk.job(suspension(services.bulk, admin, [person(f"Lưu Văn Cũ {n}", unit)]))
           for n in ("Một", "Hai")]
    for job in old:
        job.save({**job.meta(), "created": (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")})
    result = invoke(services.settings, monkeypatch, "import", "prune", "--json")
    assert result.exit_code == 0, result.output
    assert old[0].id in json.loads(result.stdout)["bulk"]["jobs"] and not old[0].folder.exists()
    assert not old[1].folder.exists()
    job = services.bulk.job(suspension(services.bulk, admin, [person("Lưu Văn Cũ Ba", unit)]))
    job.save({**job.meta(), "created": (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")})
    result = invoke(services.settings, monkeypatch, "bulk", "prune", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["jobs"] == [job.id]
    assert "bulk jobs never applied removed: 0" in invoke(services.settings, monkeypatch, "import", "prune").stdout
    # Audited as the bulk jobs they are, whichever command pruned them, never as imports.
    assert pruned_as(services, old[0].id) == pruned_as(services, job.id) == ["bulk.prune"]


def pruned_as(services: Services, job_id: str) -> list[str]:
    """The actions of the audit entries that name `job_id` among pruned jobs."""
    return [entry.action for entry in services.audit.entries() if entry.action.endswith(".prune")
            and job_id in (entry.after or {}).get("jobs", [])]
