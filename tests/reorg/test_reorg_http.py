"""The reorganisation page at HTTP level: super admins only, preview writes nothing, apply with progress, undo."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN, dump
from tests.web.conftest import PASSWORD, csrf_token, login


@pytest.fixture
def small_app(small: RunningDirectory) -> Iterator[Flask]:
    flask_app = create_app({"TESTING": True}, settings=small.settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def role_holder(services: Services, role: Role) -> str:
    """A person of STC holding `role`, with a known password; their uid."""
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Sắp Xếp", unit_code="STC",
                                            password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({role}), ((("54", "STC"),) if role is Role.UNITADMIN else ()))
    return uid


def logged_in(app: Flask, services: Services, role: Role) -> FlaskClient:
    client = app.test_client()
    assert login(client, role_holder(services, role)).status_code == 302
    return client


def upload(client: FlaskClient, data: bytes, name: str = "plan.yaml"):
    return client.post("/reorg", data={"csrf_token": csrf_token(client, "/reorg"),
                                       "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_only_super_admins_reach_the_page(small_app: Flask, small: RunningDirectory) -> None:
    for role in (Role.UNITADMIN, Role.AUDITOR, Role.HR):
        client = logged_in(small_app, small.services, role)
        assert client.get("/reorg").status_code == 403
        assert client.post("/reorg", data={}).status_code in (400, 403)
    assert small_app.test_client().get("/reorg").status_code == 302  # to the login page


def test_a_bad_plan_names_its_line_and_writes_nothing(small_app: Flask, small: RunningDirectory) -> None:
    client = logged_in(small_app, small.services, Role.SUPERADMIN)
    before = dump(small.services)
    bad = PLAN.read_bytes().replace(b'kind: ward', b'kind: district-ward')
    response = upload(client, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "dòng 36" in page and "units[3].kind" in page
    assert "Traceback" not in page
    assert dump(small.services) == before


def test_preview_then_apply_with_progress_then_undo(small_app: Flask, small: RunningDirectory) -> None:
    services = small.services
    client = logged_in(small_app, services, Role.SUPERADMIN)
    before = dump(services)
    response = upload(client, PLAN.read_bytes())
    assert response.status_code == 302
    job_page = response.headers["Location"]
    page = client.get(job_page).get_data(as_text=True)
    assert "Phường Tuy Hòa" in page and 'id="confirm"' in page
    assert dump(services) == before  # the preview wrote nothing
    token = csrf_token(client, job_page)
    assert client.post(f"{job_page}/confirm", data={"csrf_token": token}).status_code == 302
    status = wait_for(client, f"{job_page}/status", "done")
    assert status["done"] == status["total"] > 0 and status["failed"] == []
    assert services.mailboxes.store.get(_uid(services, "NV0001")).unit_code == "22015"
    assert client.post(f"{job_page}/undo", data={"csrf_token": csrf_token(client, job_page)}).status_code == 302
    wait_for(client, f"{job_page}/status", "undone")


def _uid(services: Services, hr_id: str) -> str:
    return next(m.uid for m in services.mailboxes.store.search() if m.hr_id == hr_id)


def wait_for(client: FlaskClient, url: str, state: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = client.get(url).get_json()
        if status["state"] == state and not status["running"]:
            return status
        time.sleep(0.1)
    raise AssertionError(f"never {state}: {status}")


def test_confirm_twice_applies_once_and_crafted_jobs_are_404(small_app: Flask, small: RunningDirectory) -> None:
    services = small.services
    client = logged_in(small_app, services, Role.SUPERADMIN)
    job_page = upload(client, PLAN.read_bytes()).headers["Location"]
    token = csrf_token(client, job_page)
    for _ in range(2):  # a double click, or F5 on the confirmation
        assert client.post(f"{job_page}/confirm", data={"csrf_token": token}).status_code == 302
    status = wait_for(client, f"{job_page}/status", "done")
    assert status["failed"] == [] and status["done"] == status["total"]
    again = client.post(f"{job_page}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "đã xong" in again.get_data(as_text=True)  # a finished job is not applied again
    for crafted in ("nope", "..%2F..%2Fetc", "20261201-000000-" + "a" * 64, "%00"):
        assert client.get(f"/reorg/{crafted}").status_code == 404
        assert client.post(f"/reorg/{crafted}/confirm", data={"csrf_token": token}).status_code == 404
        assert client.get(f"/reorg/{crafted}/status").status_code == 404
    client.post(f"{job_page}/undo", data={"csrf_token": token})
    wait_for(client, f"{job_page}/status", "undone")


def test_only_super_admins_act_on_a_job(small_app: Flask, small: RunningDirectory) -> None:
    services = small.services
    admin = logged_in(small_app, services, Role.SUPERADMIN)
    job_page = upload(admin, PLAN.read_bytes()).headers["Location"]
    clients = [logged_in(small_app, services, role) for role in (Role.UNITADMIN, Role.AUDITOR, Role.HR)]
    before = dump(services)
    for client in clients:
        token = csrf_token(client, "/me")
        for path in ("confirm", "undo"):
            assert client.post(f"{job_page}/{path}", data={"csrf_token": token}).status_code == 403
        assert client.get(f"{job_page}/status").status_code == 403
        assert client.get(job_page).status_code == 403
    assert dump(services) == before
