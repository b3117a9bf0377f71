"""Export from the web (CSV, Excel, YAML) of the listed mailboxes, in the person's scope (issue #12)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask.testing import FlaskClient
from openpyxl import load_workbook

from mailadmin.model import Unit
from mailadmin.wiring import Services


def test_excel_export_holds_the_unit_as_text_and_never_a_formula(unit_admin_client: FlaskClient,
                                                                 person: Callable[..., str], unit: Unit,
                                                                 services: Services) -> None:
    uid = person("Lương Văn Xuất", unit)
    services.mailboxes.update(uid, title="=HYPERLINK(\"http://evil\",\"x\")", phone="0257 3812345",
                              hr_id=f"XL-{unit.code}", quota_mib=0, aliases=())
    page = unit_admin_client.get("/mailboxes").get_data(as_text=True)
    assert 'id="export-xlsx"' in page
    answer = unit_admin_client.get("/mailboxes/export", query_string={"format": "xlsx", "unit": unit.code})
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.get_data())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    mine = next(row for row in rows if row[0] == f"XL-{unit.code}")
    assert mine[1] == "Lương Văn Xuất" and mine[2] == unit.code and mine[4] == "0257 3812345"
    assert mine[3].startswith("'=")
    assert all(cell.value is None or cell.data_type == "s" for row in sheet.iter_rows() for cell in row)


def test_csv_export_follows_the_search_and_reimports_to_nothing(admin_client: FlaskClient,
                                                                person: Callable[..., str], unit: Unit) -> None:
    person("Lương Văn Tìm", unit)
    person("Đoàn Thị Khác", unit)
    answer = admin_client.get("/mailboxes/export", query_string={"format": "csv", "unit": unit.code, "q": "luong"})
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[1] for row in rows[1:]] == ["Lương Văn Tìm"]


def test_export_is_held_to_the_scope(unit_admin_client: FlaskClient, other_unit: Unit) -> None:
    answer = unit_admin_client.get("/mailboxes/export", query_string={"format": "csv", "unit": other_unit.code})
    assert answer.status_code == 403
    assert unit_admin_client.get("/mailboxes/export", query_string={"format": "exe"}).status_code == 404
