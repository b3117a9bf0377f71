"""The worst HR workbooks uploaded over HTTP: a few kilobytes that claim a whole Excel sheet.

Before the fix a 5 KB .xlsx whose header sat in A1 and one more cell in XFD1048576 made openpyxl
pad every row, missing ones included, to 16,384 cells: 2,000 rows took 23 s and 288 MB, 20,000
rows more than 2 minutes, the full sheet would have held a web thread for hours and exhausted
memory. The claim is not believed now (at most 100 columns are built, rows past Excel's last are
refused): the upload answers like any other file.
"""

from __future__ import annotations

import io
import zipfile

from flask.testing import FlaskClient
from openpyxl import Workbook

from mailadmin.importer.columns import header_labels
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.test_imports_hostile_http import mailboxes_of
from tests.web.test_imports_http import upload


def workbook(cells: dict[tuple[int, int], str]) -> bytes:
    """An .xlsx with the template's header in row 1 and `cells` ((row, column) -> value) besides."""
    book = Workbook()
    sheet = book.active
    for column, label in enumerate(header_labels(), 1):
        sheet.cell(row=1, column=column, value=label)
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_row_number(data: bytes, old: int, new: int) -> bytes:
    """The workbook with row `old` renumbered `new` in its sheet XML (what no Excel writes past 1,048,576)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            part = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                part = part.replace(f'r="{old}"'.encode(), f'r="{new}"'.encode()) \
                    .replace(f'r="A{old}"'.encode(), f'r="A{new}"'.encode())
            target.writestr(item, part)
    return out.getvalue()


def test_a_workbook_claiming_the_whole_sheet_is_read_as_the_cells_it_has(admin_client: FlaskClient, unit: Unit,
                                                                        services: Services) -> None:
    data = workbook({(2, 1): "BOMB-1", (2, 2): "Đặng Văn Bảng Tính", (2, 3): unit.code,
                     (1_048_576, 16_384): "x"})
    assert len(data) < 10_000  # five kilobytes
    before = mailboxes_of(services, unit)
    response = upload(admin_client, data, "nhan-su.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đặng Văn Bảng Tính" in preview
    assert mailboxes_of(services, unit) == before  # the preview wrote nothing


def test_a_header_wider_than_a_hundred_columns_is_refused_in_both_languages(admin_client: FlaskClient,
                                                                            services: Services, unit: Unit) -> None:
    data = workbook({(1, 101): "Cột thừa", (2, 1): "WIDE-1", (2, 2): "Đặng Văn Rộng", (2, 3): unit.code})
    before = mailboxes_of(services, unit)
    response = upload(admin_client, data, "rong.xlsx")
    assert response.status_code == 400
    assert "hơn 100 cột" in response.get_data(as_text=True)
    admin_client.get("/lang/en")
    assert "more than 100 columns" in upload(admin_client, data, "rong.xlsx").get_data(as_text=True)
    assert mailboxes_of(services, unit) == before


def test_a_row_past_excels_last_is_refused(admin_client: FlaskClient, unit: Unit) -> None:
    data = with_row_number(workbook({(1_048_576, 1): "x"}), 1_048_576, 20_000_000)
    response = upload(admin_client, data, "qua-dai.xlsx")
    assert response.status_code == 400
    assert "vượt giới hạn của Excel" in response.get_data(as_text=True)
