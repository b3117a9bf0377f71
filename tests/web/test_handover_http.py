"""A handover sheet per unit from an import (issue #12, as LAM's per-account PDF): names, addresses and
initial passwords for the unit clerk, with first-login steps; shown once, audited."""

from __future__ import annotations

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_imports_http import by_hr_id, staff_csv, upload, wait_done


def test_the_handover_sheet_lists_each_new_official_once_and_the_password_opens_the_account(
        admin_client: FlaskClient, unit: Unit, services: Services, app) -> None:
    data, hr_ids = staff_csv(unit, "Cao Thị Bàn Giao", "Cao Văn Nhận Phiếu")
    job = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{job}")})
    wait_done(admin_client, job)
    token = csrf_token(admin_client, f"/imports/{job}")
    sheet = admin_client.post(f"/imports/{job}/results", data={"csrf_token": token, "as": "handover"})
    page = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and f'id="unit-{unit.code}"' in page and unit.name in page
    assert "Cao Thị Bàn Giao" in page and "Lần đăng nhập đầu tiên" in page
    uid = by_hr_id(services, hr_ids)[hr_ids[0]]
    password = page.split(f"{uid}@phuyen.gov.vn</td><td><code>")[1].split("<")[0]
    assert login(app.test_client(), uid, password).status_code == 302  # the printed password works (forced change)
    again = admin_client.post(f"/imports/{job}/results", data={"csrf_token": token, "as": "handover"})
    assert again.status_code == 409 and password not in again.get_data(as_text=True)  # shown once
    assert "import.handover" in [e.action for e in services.audit.entries() if e.target == job]
