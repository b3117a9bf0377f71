"""Bulk import in the web at HTTP level: upload, preview writes nothing, confirm, status, results once, refusals."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.importer.columns import header_labels
from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.conftest import MailSink, RunningDirectory
from tests.web.conftest import csrf_token, login

_numbers = itertools.count(1)


def staff_csv(unit: Unit, *names: str, prefix: str = "WEB") -> tuple[bytes, list[str]]:
    """A CSV of new people in `unit` with fresh HR ids."""
    hr_ids = [f"{prefix}{unit.code}-{next(_numbers)}" for _ in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_labels())
    for hr_id, name in zip(hr_ids, names, strict=True):
        writer.writerow([hr_id, name, unit.code, "Chuyên viên", "", "", "", ""])
    return buffer.getvalue().encode("utf-8"), hr_ids


def upload(client: FlaskClient, data: bytes, name: str = "staff.csv", **form: str):
    token = csrf_token(client, "/imports")
    return client.post("/imports", data={"csrf_token": token, "file": (io.BytesIO(data), name), **form},
                       content_type="multipart/form-data")


def by_hr_id(services: Services, hr_ids: list[str]) -> dict[str, str]:
    return {m.hr_id: m.uid for m in services.mailboxes.store.search() if m.hr_id in hr_ids}


def wait_done(client: FlaskClient, job: str) -> dict:
    """Poll the status endpoint as the progress page does, until the job leaves 'applying'."""
    for _ in range(600):
        status = client.get(f"/imports/{job}/status").get_json()
        if status["state"] == "done" and not status["running"]:
            return status
        assert not status["failure"], status
        time.sleep(0.05)
    raise AssertionError(status)


def test_template_download_has_both_languages(admin_client: FlaskClient) -> None:
    response = admin_client.get("/imports/template.csv")
    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert "Họ tên (Full name)" in text.splitlines()[0]


def test_upload_preview_confirm_status_results_once(admin_client: FlaskClient, unit: Unit,
                                                     services: Services) -> None:
    data, hr_ids = staff_csv(unit, "Phan Thị Nhập Một", "Phan Văn Nhập Hai")
    bad = data + f"{hr_ids[0]}-X,Lê Văn Sai,KHONGCO{unit.code},,,,,\r\n".encode()
    response = upload(admin_client, bad)
    assert response.status_code == 302
    job = response.headers["Location"].rsplit("/", 1)[1]
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert "Phan Thị Nhập Một" in page and 'id="confirm"' in page
    assert re.search(r'id="count-create">\s*2<', page) and re.search(r'id="count-error">\s*1<', page)
    assert "Không có đơn vị" in page and "Cột" in page  # the error with row and column, in Vietnamese
    assert by_hr_id(services, hr_ids) == {}  # the preview wrote nothing
    admin_client.get("/lang/en")
    english = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert "no unit" in english and "Column" in english and "Confirm and import 2 changes" in english

    token = csrf_token(admin_client, f"/imports/{job}")
    assert admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": token}).status_code == 302
    status = wait_done(admin_client, job)
    assert status["counts"]["create"] == 2 and status["done"] == status["total"] == 2 and status["results"]
    assert set(by_hr_id(services, hr_ids)) == set(hr_ids)
    assert 'id="results"' in admin_client.get(f"/imports/{job}").get_data(as_text=True)

    results = admin_client.post(f"/imports/{job}/results", data={"csrf_token": token})
    rows = list(csv.reader(io.StringIO(results.get_data().decode("utf-8-sig"))))
    assert results.status_code == 200 and rows[0][-1].startswith("Mật khẩu")
    created = [row for row in rows[1:] if row[5] == "Tạo mới (create)"]
    assert len(created) == 2 and all(len(row[-1]) >= 12 for row in created)
    assert admin_client.post(f"/imports/{job}/results", data={"csrf_token": token}).status_code == 409
    assert not admin_client.get(f"/imports/{job}/status").get_json()["results"]
    applied = [e for e in services.audit.entries() if e.action == "import.apply" and e.target == job]
    assert len(applied) == 1 and applied[0].actor.startswith("web:") and applied[0].actor != "web:anonymous"


def test_reimport_plans_nothing_to_confirm(admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    data, _ = staff_csv(unit, "Đoàn Thị Lặp Lại")
    first = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    admin_client.post(f"/imports/{first}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{first}")})
    wait_done(admin_client, first)
    again = upload(admin_client, data).headers["Location"]
    page = admin_client.get(again).get_data(as_text=True)
    assert 'id="nothing"' in page and 'id="confirm"' not in page


def test_hr_officer_file_is_limited_to_their_unit(app: Flask, person: Callable[..., str], unit: Unit,
                                                  other_unit: Unit, services: Services) -> None:
    client = app.test_client()
    login(client, person("Cán Bộ Nhân Sự", unit, Role.HR, (unit,)))
    assert 'id="nav-imports"' in client.get("/").get_data(as_text=True)
    inside, inside_ids = staff_csv(unit, "Người Trong Đơn Vị")
    outside, outside_ids = staff_csv(other_unit, "Người Ngoài Đơn Vị")
    mixed = inside + b"\r\n".join(outside.splitlines()[1:]) + b"\r\n"
    job = upload(client, mixed).headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/imports/{job}").get_data(as_text=True)
    assert re.search(r'id="count-create">\s*1<', page) and "ngoài phạm vi" in page
    client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(client, f"/imports/{job}")})
    wait_done(client, job)
    assert set(by_hr_id(services, inside_ids + outside_ids)) == set(inside_ids)


def test_refusals_auditor_other_person_oversized_and_missing_csrf(
        app: Flask, admin_client: FlaskClient, unit_admin_client: FlaskClient, person: Callable[..., str],
        unit: Unit, services: Services) -> None:
    auditor = app.test_client()
    login(auditor, person("Kiểm Toán Viên", unit, Role.AUDITOR))
    assert auditor.get("/imports").status_code == 403
    assert 'id="nav-imports"' not in auditor.get("/").get_data(as_text=True)
    token = csrf_token(auditor, "/me")
    data, hr_ids = staff_csv(unit, "Không Được Nhập")
    refused = auditor.post("/imports", data={"csrf_token": token, "file": (io.BytesIO(data), "a.csv")},
                           content_type="multipart/form-data")
    assert refused.status_code == 403

    assert admin_client.post("/imports", data={"file": (io.BytesIO(data), "a.csv")},
                             content_type="multipart/form-data").status_code == 400  # no CSRF token
    job = upload(unit_admin_client, data).headers["Location"].rsplit("/", 1)[1]
    assert admin_client.get(f"/imports/{job}/status").status_code == 200  # super admins see every job
    hr = app.test_client()
    login(hr, person("Nhân Sự Khác", unit, Role.HR, (unit,)))
    assert hr.get(f"/imports/{job}").status_code == 404  # another person's job does not exist for them
    hr_token = csrf_token(hr, "/imports")
    assert hr.post(f"/imports/{job}/confirm", data={"csrf_token": hr_token}).status_code == 404
    assert unit_admin_client.post(f"/imports/{job}/confirm", data={}).status_code == 400  # no CSRF token
    assert unit_admin_client.get(f"/imports/{job}/status").get_json()["state"] == "planned"

    boundary = "grenze"
    huge = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'.encode()
            + data + b"," * (17 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode())
    response = admin_client.post("/imports", data=huge, content_type=f"multipart/form-data; boundary={boundary}")
    refusal = response.get_data(as_text=True)  # sizes in MB as the rest of the UI says them (issue #12), not MiB
    assert response.status_code == 413 and "16 MB" in refusal and "MiB" not in refusal
    legacy = upload(admin_client, b"HR id,Full name,Unit\nNV1,Nguye\xe3n Th\xf2 B\xecnh,555\n")  # VNI
    assert legacy.status_code == 400 and "UTF-8" in legacy.get_data(as_text=True)
    assert by_hr_id(services, hr_ids) == {}


def test_welcome_mail_chosen_on_upload_goes_to_each_new_mailbox(
        mail_sink: tuple[MailSink, int], directory: RunningDirectory, person: Callable[..., str], unit: Unit,
        services: Services) -> None:
    handler, port = mail_sink
    settings = replace(directory.settings, smtp=replace(directory.settings.smtp, send_host="127.0.0.1",
                                                        send_port=port))
    app = create_app({"TESTING": True}, settings=settings)
    try:
        client = app.test_client()
        login(client, person("Quản Trị Chào Mừng", unit, Role.SUPERADMIN))
        assert 'name="welcome"' in client.get("/imports").get_data(as_text=True)
        assert upload(client, staff_csv(unit, "Kiều Văn Mới")[0], welcome="fr").status_code == 400
        data, hr_ids = staff_csv(unit, "Kiều Thị Chào", "Kiều Văn Mừng")
        job = upload(client, data, welcome="en").headers["Location"].rsplit("/", 1)[1]
        token = csrf_token(client, f"/imports/{job}")
        client.post(f"/imports/{job}/confirm", data={"csrf_token": token})
        assert wait_done(client, job)["welcomed"] == 2
        mails = {services.mailboxes.get(uid).mail for uid in by_hr_id(services, hr_ids).values()}
        assert {envelope.rcpt_tos[0] for envelope, _ in handler.received} == mails
        assert "Welcome mails sent: 2" in client.get("/lang/en?next=/imports/" + job, follow_redirects=True) \
            .get_data(as_text=True)
    finally:
        app.extensions["mailadmin"].close()
