"""The audit log page: filters, pages, CSV export, a mailbox's own history including its import (issue #12)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.audit import AuditLog, AuditQuery, acting_as
from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import by_hr_id, staff_csv, upload, wait_done


def test_a_mailbox_links_to_its_history_which_begins_with_the_import(admin_client: FlaskClient, unit: Unit,
                                                                    services: Services) -> None:
    data, hr_ids = staff_csv(unit, "Đào Văn Lịch Sử")
    job = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{job}")})
    wait_done(admin_client, job)
    uid = by_hr_id(services, hr_ids)[hr_ids[0]]
    services.mailboxes.suspend(uid)
    page = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" id="history"', page)
    assert link
    history = admin_client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    rows = re.findall(r'<tr><td>[^<]*</td><td>[^<]*</td><td title="(mailbox\.[a-z_]+)">([^<]+)</td>', history)
    assert rows == [("mailbox.suspended", "Tạm khóa hộp thư"), ("mailbox.create", "Tạo hộp thư")] and job in history
    assert "Trạng thái" in history and "None" not in history


def test_filters_by_unit_action_actor_and_dates(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                                other_unit: Unit, services: Services) -> None:
    mine, theirs = person("Hà Văn Lọc", unit), person("Hà Văn Khác", other_unit)
    with acting_as("web:kiemthu-loc"):
        services.mailboxes.suspend(mine)
        services.mailboxes.suspend(theirs)
    page = admin_client.get("/audit", query_string={"unit": unit.code, "action": "mailbox.suspended",
                                                    "actor": "kiemthu-loc"}).get_data(as_text=True)
    assert mine in page and theirs not in page and 'id="total">(1)' in page
    later = admin_client.get("/audit", query_string={"unit": unit.code, "since": "2999-01-01"}).get_data(as_text=True)
    assert 'id="total">(0)' in later
    junk = admin_client.get("/audit", query_string={"since": "hôm qua", "page": "x"})
    assert junk.status_code == 200


def test_pages_of_fifty_newest_first(admin_client: FlaskClient, services: Services, unit: Unit) -> None:
    with acting_as(f"web:trang-{unit.code.lower()}"):
        services.audit.record_many([("test.page", f"muc-{n:03d}", None, {"n": n}) for n in range(120)])
    query = {"actor": f"trang-{unit.code.lower()}"}
    first = admin_client.get("/audit", query_string=query).get_data(as_text=True)
    assert "muc-119" in first and "muc-070" in first and "muc-069" not in first and 'id="next-page"' in first
    third = admin_client.get("/audit", query_string={**query, "page": 3}).get_data(as_text=True)
    assert "muc-019" in third and "muc-000" in third and 'id="next-page"' not in third


def test_csv_export_has_every_matching_entry_formula_safe(admin_client: FlaskClient, services: Services,
                                                         unit: Unit) -> None:
    actor = f"web:csv-{unit.code.lower()}"
    with acting_as(actor):
        services.audit.record_many([("test.csv", "=HYPERLINK(\"http://evil\")", None, {"n": n}) for n in range(60)])
    answer = admin_client.get("/audit/export.csv", query_string={"actor": actor.removeprefix("web:")})
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert answer.mimetype == "text/csv" and len(rows) == 61
    assert all(row[3].startswith("'=") for row in rows[1:]) and "GMT+7" in rows[0][0]


def test_only_super_admins_and_auditors_read_it(app, person: Callable[..., str], unit: Unit) -> None:
    from tests.web.conftest import login

    for role, status in ((Role.UNITADMIN, 403), (Role.AUDITOR, 200)):
        client = app.test_client()
        login(client, person("Người Đọc Nhật Ký", unit, role, (unit,)))
        assert client.get("/audit").status_code == status and client.get("/audit/export.csv").status_code == status


def test_query_matches_units_before_and_after_a_move(tmp_path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("mailbox.move", "annv", {"unit_code": "555"}, {"unit_code": "557"})
    log.record("unit.rename", "558", {"name": "a"}, {"name": "b"})
    assert [e.target for e in log.search(AuditQuery(unit="555"))] == ["annv"]
    assert [e.target for e in log.search(AuditQuery(unit="557"))] == ["annv"]
    assert [e.target for e in log.search(AuditQuery(unit="558"))] == ["558"]
