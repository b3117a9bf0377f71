"""Bulk actions on the mailbox list are change-engine jobs (issue #13): one journaled job per action, audited like
the single actions, a job page with each mailbox's outcome, undo that puts back exactly what was there, resume
after an interruption, a form sent twice run once, and nothing written for an actor out of scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mailadmin.audit import AuditQuery
from mailadmin.model import Role, Status, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import eventually
from tests.web.conftest import csrf_token

KEPT = ("maAccountStatus", "pwdAccountLockedTime", "maRetainUntil", "maTier")


def list_form(client: FlaskClient, listed: str) -> dict[str, str]:
    """The hidden fields of the list's bulk form: CSRF token, the search to come back to, the submission id."""
    page = client.get(listed).get_data(as_text=True)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission, page
    return {"csrf_token": csrf_token(client, listed), "back": listed, "submission": submission.group(1)}


def jobs(services: Services) -> set[Path]:
    folder = services.bulk.jobs_dir
    return {path for path in folder.iterdir() if (path / "job.json").exists()} if folder.exists() else set()


def state(services: Services, uid: str) -> tuple[str, dict[str, list[str]]]:
    """A mailbox's DN and every attribute a bulk action or its undo writes (the session epoch aside)."""
    entry = services.mailboxes.store.find_entry(uid)
    full = services.client.get(entry.dn, KEPT)
    assert full is not None
    return entry.dn.lower(), {name: sorted(full.texts(name)) for name in KEPT}


def epoch(services: Services, uid: str) -> str:
    holder = services.roles.holder(uid)
    assert holder is not None
    return holder.epoch


def audited(services: Services, uid: str, action: str) -> list[dict[str, object]]:
    return [entry.after for entry in services.audit.search(AuditQuery(subject=uid)) if entry.action == action]


def job_of(services: Services, before: set[Path]) -> str:
    [made] = jobs(services) - before
    return made.name


def test_a_bulk_suspension_is_one_job_audited_and_undone_exactly(
        admin_client: FlaskClient, person: Callable[..., str], unit: Unit, services: Services) -> None:
    uids = [person(f"Bùi Văn Hàng Loạt {n}", unit) for n in ("Một", "Hai", "Ba", "Bốn")]
    services.mailboxes.retire(uids[3])  # retired, kept until a date: the undo puts the date back too
    before = {uid: state(services, uid) for uid in uids}
    epochs = {uid: epoch(services, uid) for uid in uids}
    listed = f"/mailboxes?unit={unit.code}&q=hang+loat"
    jobs_before = jobs(services)
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                                        "uid": uids})
    assert answer.status_code == 302 and answer.headers["Location"] == listed  # the search stays
    job = job_of(services, jobs_before)
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.SUSPENDED}
    for uid in uids:
        [after] = audited(services, uid, "mailbox.suspended")
        assert after["status"] == "suspended" and after["job"] == job
    listing = admin_client.get(listed).get_data(as_text=True)
    assert f"/mailboxes/bulk/{job}" in listing  # the list names the job once: its outcome and undo
    page = admin_client.get(f"/mailboxes/bulk/{job}").get_data(as_text=True)
    assert 'id="undo"' in page and all(f'id="row-{uid}" data-outcome="ok"' in page for uid in uids)
    undo = admin_client.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": csrf_token(admin_client,
                                                                                           f"/mailboxes/bulk/{job}")})
    assert undo.status_code == 302
    assert {uid: state(services, uid) for uid in uids} == before
    assert all(epoch(services, uid) != epochs[uid] for uid in uids)  # sessions the suspension ended stay ended
    assert [after["status"] for after in audited(services, uids[0], "mailbox.resume")] == ["active"]
    assert audited(services, uids[3], "mailbox.retired")[0]["undo"] == job
    assert "Đã hoàn tác" in admin_client.get(f"/mailboxes/bulk/{job}").get_data(as_text=True)


def test_undo_leaves_alone_a_mailbox_changed_since(admin_client: FlaskClient, person: Callable[..., str],
                                                    unit: Unit, services: Services) -> None:
    first, second = person("Đỗ Văn Đổi Sau", unit), person("Đỗ Văn Giữ Nguyên", unit)
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                               "uid": [first, second]})
    job = job_of(services, jobs_before)
    services.mailboxes.retire(first)  # someone retired it meanwhile: undoing the suspension must not revive it
    admin_client.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": csrf_token(admin_client, listed)})
    assert services.mailboxes.get(first).status is Status.RETIRED
    assert services.mailboxes.get(second).status is Status.ACTIVE
    page = admin_client.get(f"/mailboxes/bulk/{job}").get_data(as_text=True)
    assert "đã bị sửa sau thao tác hàng loạt" in page


def test_a_bulk_move_and_its_undo(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                  other_unit: Unit, services: Services) -> None:
    uids = [person("Hồ Văn Chuyển Đi", unit), person("Hồ Thị Chuyển Đi", unit)]
    before = {uid: state(services, uid) for uid in uids}
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "move",
                                               "unit": other_unit.code, "uid": uids})
    job = job_of(services, jobs_before)
    assert {services.mailboxes.get(uid).unit_code for uid in uids} == {other_unit.code}
    assert all(audited(services, uid, "mailbox.move")[0]["unit_code"] == other_unit.code for uid in uids)
    admin_client.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": csrf_token(admin_client, listed)})
    assert {uid: state(services, uid) for uid in uids} == before


def test_a_move_without_a_target_asks_for_one(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                              services: Services) -> None:
    uid = person("Hồ Văn Không Đích", unit)
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "move",
                                                        "uid": uid})
    assert answer.status_code == 302 and answer.headers["Location"] == listed
    assert "Hãy chọn đơn vị đích" in admin_client.get(listed).get_data(as_text=True)
    assert jobs(services) == jobs_before


def test_a_form_sent_twice_runs_once(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                     services: Services) -> None:
    uids = [person("Phan Văn Gửi Hai Lần", unit), person("Phan Thị Gửi Hai Lần", unit)]
    listed = f"/mailboxes?unit={unit.code}"
    form = {**list_form(admin_client, listed), "action": "suspend", "uid": uids}
    jobs_before = jobs(services)
    first = admin_client.post("/mailboxes/bulk", data=form)
    services.mailboxes.resume(uids[0])  # changed in between: a resent form must not suspend it again
    second = admin_client.post("/mailboxes/bulk", data=form)  # double click, back button + send
    job = job_of(services, jobs_before)
    assert first.headers["Location"] == listed and second.headers["Location"] == f"/mailboxes/bulk/{job}"
    assert services.mailboxes.get(uids[0]).status is Status.ACTIVE
    assert [len(audited(services, uid, "mailbox.suspended")) for uid in uids] == [1, 1]


def test_every_mailbox_matching_the_search(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                           services: Services) -> None:
    """Not only the ticked ones: the whole search (Google Workspace style), nothing outside it."""
    matching = [person(f"Lâm Văn Khớp {n}", unit) for n in ("Một", "Hai", "Ba")]
    outside = person("Lâm Văn Ngoài", unit)
    listed = f"/mailboxes?q=khop&unit={unit.code}"
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                                        "matching": "1"})
    assert answer.headers["Location"] == listed
    assert {services.mailboxes.get(uid).status for uid in matching} == {Status.SUSPENDED}
    assert services.mailboxes.get(outside).status is Status.ACTIVE


def test_a_unit_admin_out_of_scope_is_refused_and_nothing_is_written(
        unit_admin_client: FlaskClient, person: Callable[..., str], unit: Unit, other_unit: Unit,
        services: Services) -> None:
    mine, theirs = person("Vũ Văn Của Mình", unit), person("Vũ Văn Của Người", other_unit)
    boss = person("Vũ Văn Cấp Trên", unit, Role.SUPERADMIN)  # in the admin's unit, but with wider rights
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    for data in ({"action": "suspend", "uid": [mine, theirs]}, {"action": "suspend", "uid": [mine, boss]},
                 {"action": "move", "unit": other_unit.code, "uid": [mine]},
                 {"action": "suspend", "matching": "1"},  # the whole unit: the super admin is in it
                 {"action": "suspend", "matching": "1", "back": f"/mailboxes?unit={other_unit.code}"}):
        answer = unit_admin_client.post("/mailboxes/bulk", data={**list_form(unit_admin_client, listed), **data})
        assert answer.status_code == 403, data
    assert jobs(services) == jobs_before
    assert {services.mailboxes.get(uid).status for uid in (mine, theirs, boss)} == {Status.ACTIVE}
    assert services.mailboxes.get(mine).unit_code == unit.code


def test_undo_checks_the_rights_again(unit_admin_client: FlaskClient, admin_client: FlaskClient,
                                      person: Callable[..., str], unit: Unit, other_unit: Unit,
                                      services: Services) -> None:
    stays, leaves = person("Tô Văn Ở Lại", unit), person("Tô Văn Đi Nơi Khác", unit)
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    unit_admin_client.post("/mailboxes/bulk", data={**list_form(unit_admin_client, listed), "action": "suspend",
                                                    "uid": [stays, leaves]})
    job = job_of(services, jobs_before)
    services.mailboxes.move(leaves, other_unit.code)  # now outside the unit admin's scope
    token = csrf_token(unit_admin_client, listed)
    assert unit_admin_client.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": token}).status_code == 403
    assert {services.mailboxes.get(uid).status for uid in (stays, leaves)} == {Status.SUSPENDED}
    assert services.bulk.job(job).state == "done"
    other = admin_client.get(f"/mailboxes/bulk/{job}")
    assert other.status_code == 200  # a super admin sees every job; another unit admin's would be a 404


class Stop(KeyboardInterrupt):
    """The process ends at a chosen point of the apply."""


def stop_after(writes: int):  # type: ignore[no-untyped-def]
    def progress(done: int, _total: int) -> None:
        if done >= writes:
            raise Stop
    return progress


def test_an_interrupted_job_resumes_from_its_page(admin_client: FlaskClient, person: Callable[..., str],
                                                  unit: Unit, services: Services) -> None:
    uids = [person(f"Kha Văn Dừng {n}", unit) for n in ("Một", "Hai", "Ba", "Bốn", "Năm")]
    admin = services.principal(person("Kha Quản Trị", unit, Role.SUPERADMIN))
    selection = services.bulk.select(admin, "suspend", map(services.mailboxes.get, uids))
    job, _ = services.bulk.start(selection, owner=admin.uid)
    with pytest.raises(Stop):
        services.bulk.apply(job, stop_after(2))
    assert job.state == "applying" and 0 < len(job.outcomes()) < len(uids)  # really interrupted
    page = admin_client.get(f"/mailboxes/bulk/{job.id}").get_data(as_text=True)
    assert re.search(r'id="resume-form"(?![^>]*hidden)', page)
    answer = admin_client.post(f"/mailboxes/bulk/{job.id}/resume",
                               data={"csrf_token": csrf_token(admin_client, f"/mailboxes/bulk/{job.id}")})
    assert answer.status_code == 302 and job.state == "done"
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.SUSPENDED}
    assert [len(audited(services, uid, "mailbox.suspended")) for uid in uids] == [1] * 5


def test_a_whole_search_beyond_a_page_runs_in_the_background_on_its_page(
        admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    given = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc", "Quang"]
    requests = [NewMailbox(full_name=f"Quách {middle} {name}", unit_code=unit.code)
                for middle in ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc", "Kim", "Bảo")
                for name in given * 2][:230]
    assert services.mailboxes.add_many(requests) == []
    listed = f"/mailboxes?unit={unit.code}&q=quach"
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                                        "matching": "1"})
    job_page = answer.headers["Location"]
    assert re.fullmatch(r"/mailboxes/bulk/[0-9]{8}-[0-9]{6}-[0-9a-f]{6}", job_page)

    def finished() -> dict[str, object]:
        status = admin_client.get(f"{job_page}/status").get_json()
        assert status["state"] == "done" and not status["running"], status
        return status
    status = eventually(finished, seconds=60)
    assert status["done"] == status["total"] == 230 and status["failed"] == 0
    suspended = {m.status for m in services.mailboxes.store.search()
                 if m.unit_code == unit.code and m.name.full.startswith("Quách")}
    assert suspended == {Status.SUSPENDED}
    page = admin_client.get(job_page).get_data(as_text=True)
    assert page.count('data-outcome="ok"') == 230 and 'id="undo"' in page


def test_an_interrupted_undo_resumes_from_its_page(admin_client: FlaskClient, person: Callable[..., str],
                                                   unit: Unit, services: Services) -> None:
    uids = [person(f"Kha Thị Hoàn Tác {n}", unit) for n in ("Một", "Hai", "Ba")]
    before = {uid: state(services, uid) for uid in uids}
    listed = f"/mailboxes?unit={unit.code}"
    jobs_before = jobs(services)
    admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend", "uid": uids})
    job = job_of(services, jobs_before)
    with pytest.raises(Stop):
        services.bulk.undo(job, stop_after(1))
    assert services.bulk.job(job).state == "undoing"
    page = admin_client.get(f"/mailboxes/bulk/{job}").get_data(as_text=True)
    assert re.search(r'id="undo-resume-form"(?![^>]*hidden)', page)
    answer = admin_client.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": csrf_token(admin_client, listed)})
    assert answer.status_code == 302 and services.bulk.job(job).state == "undone"
    assert {uid: state(services, uid) for uid in uids} == before
    assert [len(audited(services, uid, "mailbox.resume")) for uid in uids] == [1, 1, 1]
