"""The finished import's page (issue #12: it said "Trạng thái: done", listed "Đang chờ 4" after the end, and its
error rows showed no HR id or name)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from mailadmin.model import Unit
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import staff_csv, upload, wait_done


def test_a_finished_job_with_an_error_row_says_done_in_vietnamese_and_waits_for_nothing(
        admin_client: FlaskClient, unit: Unit) -> None:
    data, hr_ids = staff_csv(unit, "Kha Thị Xong Việc", "Kha Văn Xong Việc", "Kha Văn Xong Nữa", "Kha Thị Xong Hẳn")
    bad = data + f"{hr_ids[0]}-X,Kha Văn Sai Dòng,KHONGCO{unit.code},,,,,\r\n".encode()
    job = upload(admin_client, bad).headers["Location"].rsplit("/", 1)[1]
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{job}")})
    wait_done(admin_client, job)
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    state = re.search(r'id="state"[^>]*>([^<]*)<', page)
    assert state and state.group(1).strip() == "Đã xong"
    pending = re.search(r'id="count-pending">\s*(\d+)\s*<', page)
    assert pending is None or pending.group(1) == "0", "a finished job waits for nothing"
    assert re.search(r'id="count-create">\s*4\s*<', page)
    refused = page.split('id="refused"')[1].split("</table>")[0]  # whom the refused row was about, and why
    assert f"{hr_ids[0]}-X" in refused and "Kha Văn Sai Dòng" in refused and "Không có đơn vị" in refused
    assert "Kha Thị Xong Việc" not in refused
