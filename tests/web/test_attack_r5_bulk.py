"""Web bulk jobs attacked (round 5): crafted job ids, other people's jobs, a form without its CSRF token, and a
resume by an owner whose rights shrank since the job was planned."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_bulk_jobs_http import Stop, audited, jobs, list_form, stop_after

CRAFTED_IDS = ["..", "../../secrets", "%2e%2e", "%2e%2e%2fjob.json", "20261201-120000-abcdef%00", "x" * 5000,
               "20261201-120000-ABCDEF", "20261201-120000-abcdef/../..", "submitted"]


@pytest.mark.parametrize("job_id", CRAFTED_IDS)
def test_a_crafted_job_id_is_a_plain_404_on_every_job_route(admin_client: FlaskClient, job_id: str) -> None:
    token = csrf_token(admin_client, "/mailboxes")
    for answer in (admin_client.get(f"/mailboxes/bulk/{job_id}"), admin_client.get(f"/mailboxes/bulk/{job_id}/status"),
                   admin_client.post(f"/mailboxes/bulk/{job_id}/resume", data={"csrf_token": token}),
                   admin_client.post(f"/mailboxes/bulk/{job_id}/undo", data={"csrf_token": token})):
        assert answer.status_code == 404, (job_id, answer.status_code)
        assert "Traceback" not in answer.get_data(as_text=True)


def test_another_unit_admins_job_does_not_exist_for_them(app: Flask, person: Callable[..., str], unit: Unit,
                                                         services: Services) -> None:
    """Two unit admins of the same unit: neither sees, resumes nor undoes the other's job."""
    mine, staff = person("Lưu Quản Lý Một", unit, Role.UNITADMIN, (unit,)), person("Lưu Văn Nhân Viên", unit)
    owner, other = app.test_client(), app.test_client()
    assert login(owner, mine).status_code == 302
    assert login(other, person("Lưu Quản Lý Hai", unit, Role.UNITADMIN, (unit,))).status_code == 302
    listed = f"/mailboxes?unit={unit.code}"
    before = jobs(services)
    owner.post("/mailboxes/bulk", data={**list_form(owner, listed), "action": "suspend", "uid": [staff]})
    [job] = [path.name for path in jobs(services) - before]
    token = csrf_token(other, listed)
    assert other.get(f"/mailboxes/bulk/{job}").status_code == 404
    assert other.get(f"/mailboxes/bulk/{job}/status").status_code == 404
    assert other.post(f"/mailboxes/bulk/{job}/undo", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/mailboxes/bulk/{job}/resume", data={"csrf_token": token}).status_code == 404
    assert services.mailboxes.get(staff).status is Status.SUSPENDED and services.bulk.job(job).state == "done"


def test_a_bulk_form_without_its_csrf_token_writes_nothing(admin_client: FlaskClient, person: Callable[..., str],
                                                            unit: Unit, services: Services) -> None:
    uid = person("Lưu Văn Không Mã", unit)
    listed = f"/mailboxes?unit={unit.code}"
    form = {key: value for key, value in list_form(admin_client, listed).items() if key != "csrf_token"}
    before = jobs(services)
    for data in ({**form, "action": "suspend", "uid": uid}, {**form, "action": "suspend", "matching": "1"}):
        assert admin_client.post("/mailboxes/bulk", data=data).status_code == 400
    assert jobs(services) == before and services.mailboxes.get(uid).status is Status.ACTIVE


def test_resume_checks_the_rights_again(app: Flask, person: Callable[..., str], unit: Unit, other_unit: Unit,
                                        services: Services) -> None:
    """A unit admin of two units starts a job; it is interrupted; one unit is taken from them; the resume is
    refused and the mailboxes of the unit no longer theirs stay as they are."""
    admin = person("Đàm Quản Lý Hai Đơn Vị", unit, Role.UNITADMIN, (unit, other_unit))
    uids = [person(f"Đàm Văn Tiếp {n}", place) for n, place in (("Một", unit), ("Hai", other_unit),
                                                                 ("Ba", other_unit), ("Bốn", other_unit))]
    selection = services.bulk.select(services.principal(admin), "suspend", map(services.mailboxes.get, uids))
    job, _ = services.bulk.start(selection, owner=admin)
    with pytest.raises(Stop):
        services.bulk.apply(job, stop_after(0))  # the process ended before the first write
    assert job.state == "applying"
    dn = services.mailboxes.store.find_entry(admin).dn
    services.roles.set(dn, frozenset({Role.UNITADMIN}), (unit.path,))  # other_unit is no longer theirs
    browser = app.test_client()
    assert login(browser, admin).status_code == 302
    answer = browser.post(f"/mailboxes/bulk/{job.id}/resume",
                          data={"csrf_token": csrf_token(browser, f"/mailboxes/bulk/{job.id}")})
    assert answer.status_code == 403
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.ACTIVE}


def test_a_mailbox_named_twice_is_one_change(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                             services: Services) -> None:
    """A crafted form (or a script) naming one uid three times, once in capitals: one write, one audit entry."""
    uid = person("Dương Văn Ba Lần", unit)
    listed = f"/mailboxes?unit={unit.code}"
    before = jobs(services)
    admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                               "uid": [uid, uid, uid.upper()]})
    [job] = [path.name for path in jobs(services) - before]
    assert services.mailboxes.get(uid).status is Status.SUSPENDED
    assert services.bulk.status(services.bulk.job(job))["done"] == 1
    assert len(audited(services, uid, "mailbox.suspended")) == 1


def test_a_whole_search_suspension_never_suspends_the_admin_who_sent_it(app: Flask, person: Callable[..., str],
                                                                        unit: Unit, services: Services) -> None:
    """A unit admin suspends every match of "Nguyễn" in their unit, and is a Nguyễn of that unit themselves."""
    admin = person("Nguyễn Văn Tự Khóa", unit, Role.UNITADMIN, (unit,))
    colleague = person("Nguyễn Thị Cùng Đơn Vị", unit)
    client = app.test_client()
    assert login(client, admin).status_code == 302
    listed = f"/mailboxes?unit={unit.code}&q=nguyen"
    answer = client.post("/mailboxes/bulk", data={**list_form(client, listed), "action": "suspend", "matching": "1"},
                         follow_redirects=True)
    assert services.mailboxes.get(admin).status is Status.ACTIVE
    assert services.mailboxes.get(colleague).status is Status.SUSPENDED
    assert "Hộp thư của chính bạn" in answer.get_data(as_text=True)  # told why one match was left out
    assert client.get("/mailboxes").status_code == 200  # still logged in
