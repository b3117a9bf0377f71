"""A bulk job (issue 13) whose slapd is killed (SIGKILL) in the middle of the apply, then resumed with
`mailadmin bulk resume`, ends in the same directory as an uninterrupted run, each mailbox written and
audited once; `mailadmin bulk undo` then gives back the directory it started from."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mailadmin.audit import AuditQuery
from mailadmin.errors import DirectoryUnavailable
from mailadmin.importer.journal import Job
from mailadmin.model import Role, Unit
from mailadmin.services.authz import Principal
from mailadmin.services.mailboxes import MailboxQuery, NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, eventually, mailadmin_process, make_agency, make_settings

pytestmark = pytest.mark.slow

MAILBOXES = 120
BATCH = 10  # writes per LDAP transaction: the kill lands between transactions of one job
KILL_AFTER = 35
SESSION_EPOCH = "maSessionEpoch"  # drawn anew by every job and every undo: sessions never come back


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningDirectory]:
    """A slapd of the test's own (it is killed), with small transactions."""
    directory = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_IMPORTS_BATCH_SIZE=str(BATCH)))
    yield directory
    directory.stop()


def dump(services: Services) -> dict[str, dict[str, list[bytes]]]:
    """Every entry's user attributes and its bind lock, values sorted (session epochs aside)."""
    entries = services.client.search(services.client.base_dn, "(objectClass=*)",
                                     attributes=["*", "pwdAccountLockedTime"])
    return {entry.dn.lower(): {name: sorted(values) for name, values in entry.attributes.items()
                               if name.lower() != SESSION_EPOCH.lower()} for entry in entries}


def staff(services: Services, unit: Unit) -> list[str]:
    """MAILBOXES people in `unit`, some suspended or retired already (written, unchanged, or kept dates)."""
    given = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc"]
    middles = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc", "Kim", "Bảo")
    requests = [NewMailbox(full_name=f"Hứa {middle} {name}", unit_code=unit.code)
                for middle in middles for name in given][:MAILBOXES]
    assert services.mailboxes.add_many(requests) == []
    uids = sorted(m.uid for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code)))
    for uid in uids[::9]:
        services.mailboxes.suspend(uid)
    for uid in uids[4::9]:
        services.mailboxes.retire(uid)
    return uids


def super_admin(services: Services, unit: Unit) -> Principal:
    uid = services.mailboxes.add(NewMailbox(full_name="Hứa Quản Trị", unit_code=unit.code)).mailbox.uid
    services.roles.set(services.mailboxes.store.find_entry(uid).dn, frozenset({Role.SUPERADMIN}), ())
    return services.principal(uid)


def start(services: Services, admin: Principal, action: str, uids: list[str], target: Unit | None) -> Job:
    job, _ = services.bulk.start(services.bulk.select(admin, action, services.bulk.chosen(uids), target),
                                 owner=admin.uid)
    return job


def kill_slapd_mid_apply(running: RunningDirectory, job: Job) -> None:
    """Apply the job and SIGKILL slapd once KILL_AFTER mailboxes are done."""
    pid = running.slapd.running_pid()
    assert pid is not None

    def kill(done: int, _total: int) -> None:
        if done >= KILL_AFTER and running.slapd.running_pid() is not None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)  # slapd is this process's child: reap it

    with pytest.raises(DirectoryUnavailable):
        running.services.bulk.apply(job, kill)
    assert job.state == "applying" and KILL_AFTER <= len(job.outcomes()) < MAILBOXES


def cli(running: RunningDirectory, *args: str) -> dict[str, Any]:
    environ = child_environ(running, imports_batch_size=str(BATCH))
    with mailadmin_process("bulk", *args, "--json", environ=environ) as process:
        out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return dict(json.loads(out))


def written_once(services: Services, uids: list[str], action: str, job: str) -> None:
    for uid in uids:
        entries = [e for e in services.audit.search(AuditQuery(subject=uid)) if e.action == action
                   and (e.after or {}).get("job") == job]
        assert len(entries) == 1, (uid, entries)


@pytest.mark.parametrize("action", ["suspend", "move"])
def test_slapd_killed_mid_apply_then_resumed_ends_like_an_uninterrupted_run(running: RunningDirectory,
                                                                           action: str) -> None:
    services = running.services
    home = make_agency(services, "K", "Đơn vị bị ngắt")
    target = make_agency(services, "D", "Đơn vị đích") if action == "move" else None
    uids, admin = staff(services, home), super_admin(services, home)
    before = dump(services)

    uninterrupted = start(services, admin, action, uids, target)
    summary = services.bulk.apply(uninterrupted)
    assert summary["failed_count"] == 0 and summary["done"] + summary["unchanged"] == MAILBOXES
    wanted = dump(services)
    assert wanted != before
    services.bulk.undo(uninterrupted.id)
    assert dump(services) == before

    job = start(services, admin, action, uids, target)
    kill_slapd_mid_apply(running, job)
    running.slapd.start()
    resumed = cli(running, "resume", job.id)
    assert (resumed["state"], resumed["done"], resumed["failed_count"]) == ("done", summary["done"], 0)
    eventually(lambda: _same(dump(services), wanted), seconds=30)
    changed = [record["subject"] for record in job.records() if record["kind"] != "unchanged"]
    written_once(services, changed, "mailbox.move" if action == "move" else "mailbox.suspended", job.id)

    running.slapd.stop()  # an undo that cannot reach the directory says how to carry on, and may run again
    with mailadmin_process("bulk", "undo", job.id, environ=child_environ(running)) as process:
        _, err = process.communicate(timeout=300)
    assert process.returncode == 6 and "Traceback" not in err, err
    assert "Error: " in err and f"mailadmin bulk undo {job.id}" in err
    running.slapd.start()
    undone = cli(running, "undo", job.id)
    assert (undone["undone"], undone["not_undone"]) == (summary["done"], [])
    eventually(lambda: _same(dump(services), before), seconds=30)


def _same(now: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert now == wanted
