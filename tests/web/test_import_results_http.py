"""A refused row still says whom it was about, in the preview and in the results file (issue #12)."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient

from mailadmin.importer.columns import header_labels
from mailadmin.model import Unit
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import upload, wait_done


def staff(unit: Unit) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_labels())
    writer.writerow([f"KQ-{unit.code}-1", "Tô Văn Đúng", unit.code, "", "", "", "", ""])
    writer.writerow([f"KQ-{unit.code}-2", "Tô Văn Sai", unit.code, "", "abc", "tovansai@@phuyen.gov.vn", "", ""])
    return buffer.getvalue().encode("utf-8")


def test_error_rows_name_their_person_and_outcomes_are_vietnamese(admin_client: FlaskClient, unit: Unit) -> None:
    job = upload(admin_client, staff(unit)).headers["Location"].rsplit("/", 1)[1]
    preview = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert f"KQ-{unit.code}-2" in preview and "Tô Văn Sai" in preview
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{job}")})
    wait_done(admin_client, job)
    results = admin_client.post(f"/imports/{job}/results", data={"csrf_token": csrf_token(admin_client,
                                                                                          f"/imports/{job}")})
    rows = list(csv.reader(io.StringIO(results.get_data(as_text=True).lstrip("\ufeff"))))
    refused = next(row for row in rows if row[1] == f"KQ-{unit.code}-2")
    assert refused[2:5] == ["Tô Văn Sai", unit.code, "tovansai@@phuyen.gov.vn"] and refused[5] == "Lỗi (error)"
    created = next(row for row in rows if row[1] == f"KQ-{unit.code}-1")
    assert created[5] == "Tạo mới (create)"


def test_a_doubled_at_sign_is_called_malformed_not_foreign(admin_client: FlaskClient, unit: Unit) -> None:
    data = staff(unit).replace(b',abc,', b',,')
    job = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    preview = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert "tovansai@@phuyen.gov.vn sai dạng" in preview and "không thuộc miền" not in preview
