"""Housekeeping of import jobs: nothing holding initial passwords stays on disk forever."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailadmin.importer.service import RESULTS_FILE, ImportService
from mailadmin.model import Unit
from mailadmin.wiring import Services

from .conftest import state_of
from .helpers import csv_file
from .test_apply import invoke, people


def own_imports(services: Services, state_dir: Path) -> ImportService:
    """The import service on the session directory, with a jobs folder of the test's own."""
    return ImportService(replace(services.settings, state_dir=state_dir), services.mailboxes, services.audit)


def test_unconfirmed_jobs_and_untaken_results_are_deleted_after_their_time(services: Services, unit: Unit,
                                                                          tmp_path: Path) -> None:
    imports = own_imports(services, tmp_path)
    abandoned = imports.start(imports.preview(csv_file(people(unit, 2)), "abandoned.csv"))
    assert len(abandoned.secrets()) == 2  # the initial passwords it would set are on disk
    finished = imports.start(imports.preview(csv_file(people(unit, 1, start=10)), "finished.csv"))
    imports.apply(finished)
    results = finished.folder / RESULTS_FILE
    assert results.exists()
    now = datetime.now(UTC)
    assert imports.prune(now + timedelta(hours=23)) == {"jobs": [], "results": []}
    assert imports.prune(now + timedelta(hours=25)) == {"jobs": [abandoned.id], "results": []}
    assert not abandoned.folder.exists()
    assert imports.prune(now + timedelta(days=8)) == {"jobs": [], "results": [finished.id]}
    assert not results.exists()
    # The finished job's journal stays: its status and undo still work.
    assert imports.status(finished.id)["state"] == "done"
    assert len(state_of(services, unit)) == 1
    imports.undo(finished.id)
    assert state_of(services, unit) == {}
    pruned = [e for e in services.audit.entries() if e.action == "import.prune"]
    assert pruned[-1].target == "jobs" and pruned[-1].after["results"] == [finished.id]


def test_a_job_being_applied_is_never_pruned(services: Services, unit: Unit, tmp_path: Path) -> None:
    imports = own_imports(services, tmp_path)
    job = imports.start(imports.preview(csv_file(people(unit, 1)), "running.csv"))
    with job.locked():  # another process works on it
        assert imports.prune(datetime.now(UTC) + timedelta(days=30)) == {"jobs": [], "results": []}
    job.set_state("applying")  # interrupted: waits for `import resume`
    assert imports.prune(datetime.now(UTC) + timedelta(days=30)) == {"jobs": [], "results": []}
    assert job.folder.exists() and job.secrets()


def test_cli_prune(services: Services, unit: Unit, monkeypatch: pytest.MonkeyPatch) -> None:
    job = services.imports.start(services.imports.preview(csv_file(people(unit, 1)), "old.csv"))
    job.save({**job.meta(), "created": (datetime.now(UTC) - timedelta(days=2)).isoformat(timespec="seconds")})
    result = invoke(services, monkeypatch, "import", "prune", "--json")
    assert result.exit_code == 0, result.output
    assert job.id in json.loads(result.stdout)["jobs"] and not job.folder.exists()
