"""CSV downloads of the web admin, opened by an Excel that splits at `;` (Vietnamese Windows) or at `,`.

Each download is read both ways (tests/excel_reader.py): no cell may come out as a formula.
"""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.audit import acting_as
from mailadmin.importer.columns import header_labels
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.excel_reader import formula_cells
from tests.importer.helpers import csv_file
from tests.importer.test_csv_semicolon_excel import AS_READ, HOSTILE, plain_rows
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import upload, wait_done


def test_the_mailbox_export(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                            services: Services) -> None:
    titles = [cell for cell in AS_READ if cell.isprintable()]
    for n, title in enumerate(titles):
        uid = person(f"Lương Văn Chấm {chr(ord('A') + n)}", unit)
        services.mailboxes.update(uid, title=title, phone="", hr_id=f"CP-{unit.code}-{n}", quota_mib=0, aliases=())
    answer = admin_client.get("/mailboxes/export", query_string={"format": "csv", "unit": unit.code})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    data = answer.get_data()
    assert formula_cells(data) == []
    exported = {row[0]: row[3] for row in plain_rows(data)[1:]}
    assert [exported[f"CP-{unit.code}-{n}"] for n in range(len(titles))] == titles


def test_the_import_results(admin_client: FlaskClient, unit: Unit) -> None:
    rows = [[f"CK-{unit.code}-{n}", cell, cell, "", "", cell, "", ""] for n, cell in enumerate(HOSTILE)]
    job = upload(admin_client, csv_file(rows)).headers["Location"].rsplit("/", 1)[1]
    token = csrf_token(admin_client, f"/imports/{job}")
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": token})
    wait_done(admin_client, job)
    data = admin_client.post(f"/imports/{job}/results", data={"csrf_token": token}).get_data()
    assert formula_cells(data) == []
    assert [row[2] for row in plain_rows(data)[1:]] == AS_READ


def test_the_template(admin_client: FlaskClient) -> None:
    data = admin_client.get("/imports/template.csv").get_data()
    assert formula_cells(data) == [] and plain_rows(data)[0] == header_labels()


def test_the_audit_export(admin_client: FlaskClient, services: Services, unit: Unit) -> None:
    actor = f"web:csvsemi-{unit.code.lower()}"
    with acting_as(actor):
        services.audit.record_many([("test.csv", cell, None, {"title": cell}) for cell in HOSTILE])
    answer = admin_client.get("/audit/export.csv", query_string={"actor": actor.removeprefix("web:")})
    assert answer.status_code == 200
    assert formula_cells(answer.get_data()) == []
