"""The files HR offices really send import with warnings, not refusals (issue #12): extra columns, units
by name, a BOM, Excel workbooks; a unit nobody has gets the nearest one suggested."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from openpyxl import Workbook

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import by_hr_id, upload, wait_done


def hr_export(unit: Unit) -> bytes:
    """What an HR office's spreadsheet exports: a row number, a birth date, the unit by its name, a BOM."""
    lines = ["STT;Mã nhân sự;Họ và tên;Ngày sinh;Đơn vị;Chức vụ",
             f"1;HRF-{unit.code}-1;Lý Thị Hồng;02/09/1985;{unit.name};Chuyên viên",
             f"2;HRF-{unit.code}-2;Lý Văn Mạnh;15/04/1990;{unit.name.lower()};Phó phòng"]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def confirm(client: FlaskClient, job: str) -> None:
    client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(client, f"/imports/{job}")})
    wait_done(client, job)


def test_an_hr_export_with_extra_columns_and_unit_names_imports_with_a_warning(
        admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    job = upload(admin_client, hr_export(unit), "nhan-su.csv").headers["Location"].rsplit("/", 1)[1]
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert "Bỏ qua các cột không dùng cho nhập: 1 (STT), 4 (Ngày sinh)" in page
    assert re.search(r'id="count-create">\s*2<', page) and re.search(r'id="count-error">\s*0<', page)
    confirm(admin_client, job)
    created = by_hr_id(services, [f"HRF-{unit.code}-1", f"HRF-{unit.code}-2"])
    assert {services.mailboxes.get(uid).unit_code for uid in created.values()} == {unit.code}


def test_an_excel_workbook_imports_like_its_csv(admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["STT", "Mã nhân sự", "Họ tên", "Đơn vị", "Điện thoại"])
    sheet.append([1, f"XLS-{unit.code}-1", "Phan Thị Bảng", unit.code, "0905123456"])
    sheet.append([2, 4711, "Phan Văn Tính", unit.name, 905123457.0])  # numbers as Excel keeps them
    data = io.BytesIO()
    book.save(data)
    job = upload(admin_client, data.getvalue(), "nhan-su.xlsx").headers["Location"].rsplit("/", 1)[1]
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert re.search(r'id="count-create">\s*2<', page), page
    confirm(admin_client, job)
    created = by_hr_id(services, [f"XLS-{unit.code}-1", "4711"])
    assert services.mailboxes.get(created["4711"]).phone == "905123457"


def test_a_unit_nobody_has_gets_the_nearest_suggested(admin_client: FlaskClient, unit: Unit) -> None:
    misspelt = unit.name.replace("thử nghiệm", "thu nghiem").replace("Đơn vị", "Don vi") + "x"
    lines = ["Mã nhân sự,Họ tên,Đơn vị", f"NEAR-{unit.code},Hà Văn Gần,{misspelt}"]
    job = upload(admin_client, "\r\n".join(lines).encode("utf-8")).headers["Location"].rsplit("/", 1)[1]
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert f"có phải {unit.name} (mã {unit.code})?" in page


def test_a_broken_workbook_is_a_clear_file_error(admin_client: FlaskClient) -> None:
    answer = upload(admin_client, b"PK\x03\x04 not really a zip", "hong.xlsx")
    assert answer.status_code == 400 and "Excel" in answer.get_data(as_text=True)
