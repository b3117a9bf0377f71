"""An apply interrupted for real (the process killed, slapd killed) resumes to exactly the planned state."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mailadmin.directory.client import DirectoryClient
from mailadmin.errors import DirectoryUnavailable
from mailadmin.excel_csv import restore
from mailadmin.importer.journal import Job
from mailadmin.importer.plan import Outcome, comparable
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory

from .conftest import import_file, new_unit, state_of
from .helpers import csv_file, spelled

ROWS = 1200


def staff(unit: Unit, count: int) -> bytes:
    return csv_file([[f"{unit.code}-{n}", f"Trần Thị Mai {spelled(n)}", unit.code, "Văn thư"] for n in range(count)])


def planned_state(job: Job) -> dict[str, dict[str, object]]:
    return {a.after.uid: comparable(a.after) for a in job.actions() if a.after is not None}


def wait_for_first_batch(job_folder: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        log = job_folder / "done.log"
        if log.exists() and log.stat().st_size > 0:
            return
        time.sleep(0.005)
    raise AssertionError("the import never wrote its first batch")


def test_resume_after_the_import_process_is_killed(directory: RunningDirectory, unit: Unit, tmp_path: Path) -> None:
    services = directory.services
    source = tmp_path / "staff.csv"
    source.write_bytes(staff(unit, ROWS))
    jobs_before = set(services.imports.jobs_dir.glob("*")) if services.imports.jobs_dir.exists() else set()
    env = {**os.environ, "MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
           "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port), "MAILADMIN_IMPORTS_BATCH_SIZE": "25"}
    process = subprocess.Popen([sys.executable, "-m", "mailadmin", "import", str(source), "--json"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (set(services.imports.jobs_dir.glob("*")) - jobs_before) and time.monotonic() < deadline:
            time.sleep(0.005)
        [folder] = set(services.imports.jobs_dir.glob("*")) - jobs_before
        wait_for_first_batch(folder, process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    job = Job(folder)
    assert job.state == "applying"
    assert 0 < len(job.outcomes()) < ROWS  # really interrupted
    report = tmp_path / "results.csv"
    summary = services.imports.resume(job.id, report=report)
    assert summary["counts"]["create"] == ROWS and summary["failed"] == []
    assert state_of(services, unit) == planned_state(job)
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig"))))[1:]
    for cells in rows[:: ROWS // 10]:  # passwords of batches written before and after the kill both work
        assert cells[7] == restore(cells[7])
        dn = services.mailboxes.store.find_entry(cells[4].split("@")[0]).dn
        assert services.client.check_password(dn, cells[7])
    with pytest.raises(Exception, match="already done"):
        services.imports.resume(job.id)


def test_resume_after_slapd_is_killed_mid_apply(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    unit = new_unit(services)
    other = new_unit(services)
    import_file(services, staff(unit, 100))
    rows = [[f"{unit.code}-{n}", f"Trần Thị Mai {spelled(n)}", other.code if n % 2 else unit.code, "Chuyên viên"]
            for n in range(300)]
    preview = services.imports.preview(csv_file(rows), "changes.csv")
    assert preview.plan.counts() | {"update": 0} == {"create": 200, "update": 0, "move": 50, "retire": 0,
                                                     "unchanged": 0, "error": 0}
    job = services.imports.start(preview)
    slapd_pid = fresh_directory.slapd.running_pid()
    assert slapd_pid is not None

    def kill_slapd_after_first_batch(done: int, total: int) -> None:
        if done >= 125 and fresh_directory.slapd.running_pid() is not None:
            os.kill(slapd_pid, signal.SIGKILL)
            os.waitpid(slapd_pid, 0)  # slapd is this process's child: reap it

    writer_batch = services.settings.imports.batch_size
    assert writer_batch == 500
    with pytest.raises(DirectoryUnavailable):
        services.imports.apply(job, progress=kill_slapd_after_first_batch)
    assert job.state == "applying"
    fresh_directory.slapd.start()
    summary = services.imports.resume(job.id)
    assert summary["failed"] == []
    expected = planned_state(job)
    assert {**state_of(services, unit), **state_of(services, other)} == expected
    assert [a.outcome for a in job.actions()].count(Outcome.MOVE) == 50


def test_a_move_made_but_not_journaled_is_recognised_on_resume(services: Services, unit: Unit) -> None:
    """The crash window of a move (renamed, journal not yet synced): resume marks it done, never 'failed'."""
    other = new_unit(services)
    import_file(services, staff(unit, 3))
    rows = [[f"{unit.code}-{n}", f"Trần Thị Mai {spelled(n)}", unit.code, "Văn thư"] for n in range(3)]
    rows[0][2] = other.code
    rows[0] += ["", "", "", "suspended"]  # moved and suspended: the bind lock and a new epoch travel too
    rows[1][3] = "Chuyên viên"
    preview = services.imports.preview(csv_file(rows), "changes.csv")
    assert [a.outcome for a in preview.plan.actions][:2] == [Outcome.MOVE, Outcome.UPDATE]
    job = services.imports.start(preview)
    services.imports.apply(job)
    services.imports.take_results(job.id)
    log = job.folder / "done.log"
    moved = preview.plan.actions[0].index
    log.write_text("".join(f"{line}\n" for line in log.read_text().splitlines() if not line.startswith(f"{moved} ")))
    job.set_state("applying")
    summary = services.imports.resume(job.id)
    assert summary["failed"] == [] and job.outcomes()[moved] == "ok"
    assert {**state_of(services, unit), **state_of(services, other)} == planned_state(job)


def _forget_last_rows(job: Job, count: int) -> list[int]:
    """The crash window of an add: written, not journaled (the last `count` lines of the journal dropped)."""
    log = job.folder / "done.log"
    lines = log.read_text().splitlines()
    log.write_text("".join(f"{line}\n" for line in lines[:-count]))
    job.set_state("applying")
    return [int(line.split()[0]) for line in lines[-count:]]


def _with_peers(services: Services) -> Services:
    """The same directory reached as a replicated one (two URIs): what a resume after a failover sees."""
    uri = services.client.config.uris[0]
    return Services(services.settings, DirectoryClient(replace(services.client.config, uris=(uri, uri))))


def test_a_resume_never_counts_someone_elses_entry_as_its_own_add(services: Services, unit: Unit) -> None:
    preview = services.imports.preview(staff(unit, 3), "staff.csv")
    job = services.imports.start(preview)
    services.imports.apply(job)
    services.imports.take_results(job.id)
    forgotten = _forget_last_rows(job, 1)
    taken = next(a for a in preview.plan.actions if a.index == forgotten[0]).after
    dn = services.mailboxes.store.dn_of(taken, unit.path)
    services.client.modify(dn, {"title": ("replace", ["Người khác"])})  # not what the import wrote any more
    summary = services.imports.resume(job.id)
    assert len(summary["failed"]) == 1
    assert "already exists" in job.outcomes()[forgotten[0]]
    entry = services.client.get(dn, ["title"])
    assert entry is not None and entry.text("title") == "Người khác"  # never touched


class _Stopped(Exception):
    pass


def test_a_resume_with_peers_writes_again_the_adds_it_finds(services: Services, unit: Unit) -> None:
    """After a failover the entries found may be phantoms of a commit the dead server lost: made this server's own."""
    preview = services.imports.preview(staff(unit, 4), "staff.csv")
    job = services.imports.start(preview)

    def stop_after_two(done: int, _total: int) -> None:
        if done == 2:  # all four written in one transaction, two journaled
            raise _Stopped
    with pytest.raises(_Stopped):
        services.imports.apply(job, stop_after_two)
    dns = {services.mailboxes.store.dn_of(a.after, unit.path) for a in preview.plan.actions if a.after}
    before = {dn: services.client.get(dn, ["entryUUID"]) for dn in dns}
    assert all(before.values())
    peers = _with_peers(services)
    try:
        summary = peers.imports.resume(job.id)
    finally:
        peers.close()
    assert summary["failed"] == [] and set(job.outcomes().values()) == {"ok"}
    after = {dn: services.client.get(dn, ["entryUUID"]) for dn in dns}
    renewed = [dn for dn in dns if after[dn].text("entryUUID") != before[dn].text("entryUUID")]  # type: ignore[union-attr]
    assert len(renewed) == 2
    assert state_of(services, unit) == planned_state(job)
