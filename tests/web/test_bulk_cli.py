"""`mailadmin bulk list|status|resume|undo` (issue #13: bulk actions have the interfaces of imports and
reorganisations): jobs started on the web's mailbox list are listed, followed, resumed and undone from the
command line, with JSON, bilingual refusals and the same exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient

from mailadmin.cli import main
from mailadmin.model import Role, Status, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.settings import Settings
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.web.test_bulk_jobs_http import audited, job_of, jobs, list_form, state, stop_after


def invoke(settings: Settings, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """The real click group, in-process, on the directory of `settings`."""
    monkeypatch.setenv("MAILADMIN_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("MAILADMIN_SLAPD_PORT", str(settings.slapd.port))
    return CliRunner().invoke(main, list(args))


def refused(result: Result, code: int, english: str) -> None:
    """A bilingual refusal with its exit code, no traceback and no resume hint (nothing was written)."""
    assert result.exit_code == code, result.output
    assert "Lỗi: " in result.stderr and f"Error: {english}" in result.stderr, result.stderr
    assert "Traceback" not in result.output and "resume with" not in result.stderr


def web_suspension(client: FlaskClient, services: Services, unit: Unit, uids: list[str]) -> str:
    """Suspend `uids` from the mailbox list's bulk form; the job's id."""
    before = jobs(services)
    listed = f"/mailboxes?unit={unit.code}"
    answer = client.post("/mailboxes/bulk", data={**list_form(client, listed), "action": "suspend", "uid": uids})
    assert answer.status_code == 302
    return job_of(services, before)


def test_a_web_job_listed_shown_and_undone_from_the_command_line(
        admin_client: FlaskClient, person: Callable[..., str], unit: Unit, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    uids = [person(f"Lạc Văn Dòng Lệnh {n}", unit) for n in ("Một", "Hai", "Ba")]
    before = {uid: state(services, uid) for uid in uids}
    job = web_suspension(admin_client, services, unit, uids)
    settings = services.settings

    listed = invoke(settings, monkeypatch, "bulk", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [mine] = [entry for entry in json.loads(listed.stdout) if entry["job"] == job]
    owner = services.bulk.job(job).meta()["owner"]
    assert (mine["action"], mine["state"], mine["done"], mine["total"], mine["owner"]) == \
        ("suspend", "done", 3, 3, owner)
    table = invoke(settings, monkeypatch, "bulk", "list")
    assert table.exit_code == 0 and job in table.stdout and owner in table.stdout

    shown = invoke(settings, monkeypatch, "bulk", "status", job, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == mine
    assert f"{job}: suspend, done" in invoke(settings, monkeypatch, "bulk", "status", job).stdout

    refused(invoke(settings, monkeypatch, "bulk", "resume", job), 4, f"job {job} is already done")
    undone = invoke(settings, monkeypatch, "bulk", "undo", job, "--json")
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.stdout) | {"not_undone": []} == {"job": job, "state": "undone", "undone": 3,
                                                               "not_undone": []}
    assert {uid: state(services, uid) for uid in uids} == before
    assert [len(audited(services, uid, "mailbox.resume")) for uid in uids] == [1, 1, 1]
    refused(invoke(settings, monkeypatch, "bulk", "undo", job), 4, "only a finished job can be undone")
    assert json.loads(invoke(settings, monkeypatch, "bulk", "status", job, "--json").stdout)["state"] == "undone"


@pytest.mark.parametrize("job", ["../../etc", "20261201-000000-abcdef", ""])
def test_an_unknown_job_is_a_clean_error(services: Services, monkeypatch: pytest.MonkeyPatch, job: str) -> None:
    for command in ("status", "resume", "undo"):
        refused(invoke(services.settings, monkeypatch, "bulk", command, job), 3, f"no job {job}")


def test_an_interrupted_web_job_is_resumed_from_the_command_line(
        person: Callable[..., str], unit: Unit, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    uids = [person(f"Kha Văn Tiếp Tục {n}", unit) for n in ("Một", "Hai", "Ba", "Bốn", "Năm")]
    admin = services.principal(person("Kha Quản Trị Dòng Lệnh", unit, Role.SUPERADMIN))
    job, _ = services.bulk.start(services.bulk.select(admin, "suspend", services.bulk.chosen(uids)), owner=admin.uid)
    with pytest.raises(KeyboardInterrupt):  # the web process ended in the middle of the job
        services.bulk.apply(job, stop_after(2))
    assert job.state == "applying" and 0 < len(job.outcomes()) < len(uids)
    status = json.loads(invoke(services.settings, monkeypatch, "bulk", "status", job.id, "--json").stdout)
    assert status["state"] == "applying" and 0 < status["done"] < status["total"] == 5
    resumed = invoke(services.settings, monkeypatch, "bulk", "resume", job.id, "--json")
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    assert (summary["state"], summary["done"], summary["failed_count"]) == ("done", 5, 0)
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.SUSPENDED}
    assert [len(audited(services, uid, "mailbox.suspended")) for uid in uids] == [1] * 5


def test_undo_leaves_a_mailbox_changed_since_and_exits_2(
        admin_client: FlaskClient, person: Callable[..., str], unit: Unit, services: Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    changed, kept = person("Đỗ Văn Sửa Sau Dòng Lệnh", unit), person("Đỗ Văn Giữ Dòng Lệnh", unit)
    job = web_suspension(admin_client, services, unit, [changed, kept])
    services.mailboxes.retire(changed)
    undone = invoke(services.settings, monkeypatch, "bulk", "undo", job)
    assert undone.exit_code == 2, undone.output
    assert "undone: 1" in undone.stdout and "changed since the bulk action" in undone.stdout
    assert services.mailboxes.get(changed).status is Status.RETIRED
    assert services.mailboxes.get(kept).status is Status.ACTIVE


def super_admin(services: Services, name: str) -> str:
    uid = services.mailboxes.add(NewMailbox(full_name=name, unit_code="STC")).mailbox.uid
    services.roles.set(services.mailboxes.store.find_entry(uid).dn, frozenset({Role.SUPERADMIN}), ())
    return uid


def test_an_undo_never_suspends_the_last_active_super_admin(fresh_directory: RunningDirectory,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    services = fresh_directory.services
    first, second = super_admin(services, "Nguyễn Văn Thứ Nhất"), super_admin(services, "Nguyễn Văn Thứ Hai")
    services.mailboxes.suspend(first)
    admin = services.principal(second)
    job, _ = services.bulk.start(services.bulk.select(admin, "resume", services.bulk.chosen([first])),
                                 owner=second)
    services.bulk.apply(job)
    services.mailboxes.suspend(second)  # allowed: the first one is active again
    undo = invoke(fresh_directory.settings, monkeypatch, "bulk", "undo", job.id)
    refused(undo, 4, f"{first} is the last active super admin")
    assert services.mailboxes.get(first).status is Status.ACTIVE and job.state == "done"  # undo may run later
    services.mailboxes.resume(second)
    assert invoke(fresh_directory.settings, monkeypatch, "bulk", "undo", job.id).exit_code == 0
    assert services.mailboxes.get(first).status is Status.SUSPENDED

