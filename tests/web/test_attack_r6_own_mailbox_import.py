"""Nobody suspends or retires their own mailbox (round 6: the page, the API and bulk refuse it). An import is
another path to the same write: a row naming the importer's own HR id with the status 'suspended' or 'retired'
(HR's file marks the officer who is leaving, or the officer edits the template carelessly) ended the officer's
own session mid-job and left them unable to sign in again. The row is refused, naming why; the rest imports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import login
from tests.web.test_attack_import_rights import confirm, uploaded
from tests.web.test_imports_http import by_hr_id, staff_csv, wait_done


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_an_import_row_does_not_lock_out_the_importer(status: str, app: Flask, person: Callable[..., str],
                                                      unit: Unit, services: Services) -> None:
    hr = person("Cán Bộ Nhân Sự Tự Khóa", unit, Role.HR, (unit,))
    hr_id = f"SELF-{hr}"
    services.mailboxes.update(hr, title="", phone="", hr_id=hr_id, quota_mib=0, aliases=())
    officer = app.test_client()
    login(officer, hr)
    data, others = staff_csv(unit, "Đỗ Thị Nhập Cùng", prefix=f"WITH{status[:3].upper()}")
    row = f"{hr_id},Cán Bộ Nhân Sự Tự Khóa,{unit.code},Chuyên viên,,,,{status}\r\n"
    job = uploaded(officer, data + row.encode())
    page = officer.get(f"/imports/{job}").get_data(as_text=True)
    assert "Không thể tạm khóa hoặc cho thôi sử dụng hộp thư của chính bạn" in page, page
    assert confirm(officer, job).status_code == 302
    wait_done(officer, job)
    assert services.mailboxes.get(hr).status is Status.ACTIVE
    assert sorted(by_hr_id(services, others)) == sorted(others)  # the other rows imported (in any order)
    assert officer.get("/").status_code == 200  # still signed in
