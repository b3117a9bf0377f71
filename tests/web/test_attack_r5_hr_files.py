"""HR files a careless office or an attacker sends over HTTP (round 5), all held: 10,000 columns, a UTF-8 file with a
Windows-1258 line pasted in, and formula cells echoed into the results file."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient

from mailadmin.importer.columns import FORMULA_STARTS, header_labels
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token
from tests.web.test_imports_hostile_http import mailboxes_of
from tests.web.test_imports_http import upload, wait_done


def test_ten_thousand_columns_are_read_as_the_eight_that_mean_something(admin_client: FlaskClient, unit: Unit,
                                                                        services: Services) -> None:
    """CSV is the way out the wide-workbook refusal offers: its extra columns are ignored, never built up."""
    header = [*header_labels(), *(f"Cột thừa {n}" for n in range(10_000))]
    row = [f"RONG-{unit.code}", "Đặng Văn Rộng", unit.code, *[""] * (len(header) - 3)]
    data = "\r\n".join(",".join(line) for line in (header, row)).encode()
    before = mailboxes_of(services, unit)
    answer = upload(admin_client, data, "rong.csv")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    preview = admin_client.get(answer.headers["Location"])
    assert preview.status_code == 200 and "Đặng Văn Rộng" in preview.get_data(as_text=True)
    assert mailboxes_of(services, unit) == before


def test_a_file_mixing_utf8_and_windows_1258_is_refused_naming_the_encoding(admin_client: FlaskClient, unit: Unit,
                                                                           services: Services) -> None:
    good = ",".join([f"TRON-{unit.code}-1", "Đặng Văn Trộn", unit.code, "", "", "", "", ""]).encode()
    legacy = f"TRON-{unit.code}-2,".encode() + "Lê Văn Tú".encode("cp1258") + f",{unit.code},,,,,".encode()
    data = b"\r\n".join([",".join(header_labels()).encode(), good, legacy])
    before = mailboxes_of(services, unit)
    answer = upload(admin_client, data, "tron.csv")
    assert answer.status_code == 400 and "UTF-8" in answer.get_data(as_text=True)
    assert mailboxes_of(services, unit) == before


def test_formula_cells_of_refused_rows_come_back_neutralised(admin_client: FlaskClient, unit: Unit) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_labels())
    cells = ["=cmd|' /C calc'!A0", "+84 905 000", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"]
    for n, cell in enumerate(cells):
        writer.writerow([f"CT-{unit.code}-{n}", cell, "=HYPERLINK(\"http://x\")", "", "", cell, "", ""])
    job = upload(admin_client, buffer.getvalue().encode()).headers["Location"].rsplit("/", 1)[1]
    token = csrf_token(admin_client, f"/imports/{job}")
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": token})
    wait_done(admin_client, job)
    results = admin_client.post(f"/imports/{job}/results", data={"csrf_token": token}).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(results.lstrip("\ufeff"))))
    assert len(rows) == len(cells) + 1
    assert not [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
