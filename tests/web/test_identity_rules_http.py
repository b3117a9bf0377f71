"""Identity rules an attacker probed (issue #10, points 2, 5, 6 and 9), through the real HTTP entry points.

- HR ids are unique: the API and the edit form refuse another official's HR id (409), slapd too.
- Unit-list addresses (ds-<code>) belong to the unit lists: no alias or custom list may take one.
- An HR import row that touches a role holder is an error row with a reason; nothing changes.
- Chosen passwords: no weak, personal or recently used password.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.errors import Conflict, InvalidInput
from mailadmin.importer.columns import header_labels
from mailadmin.model import Role, Status, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_imports_http import upload, wait_done

WEAK = ["1234567890", "password123", "aaaaaaaaaa", "matkhau2026", "Matkhau123"]


@pytest.fixture
def token_of(services: Services) -> Callable[[str], dict[str, str]]:
    return lambda uid: {"Authorization": f"Bearer {services.tokens.issue(uid)}"}


# -- HR ids ------------------------------------------------------------------------------------

def test_api_refuses_another_officials_hr_id(client: FlaskClient, person: Callable[..., str], unit: Unit,
                                             services: Services, token_of: Callable[[str], dict[str, str]]) -> None:
    official = services.mailboxes.add(NewMailbox(full_name="Nguyễn Chính Chủ", unit_code=unit.code,
                                                 hr_id=f"HR-{unit.code}-1")).mailbox
    headers = token_of(person("Quản Lý API", unit, Role.UNITADMIN, (unit,)))
    answer = client.post("/api/v1/mailboxes", headers=headers,
                         json={"full_name": "Kẻ Chiếm Chỗ", "unit": unit.code, "hr_id": official.hr_id})
    body = answer.get_json()
    assert answer.status_code == 409 and official.uid in body["error"] and "Mã nhân sự" in body["error_vi"]
    assert [m.uid for m in services.mailboxes.store.search() if m.hr_id == official.hr_id] == [official.uid]


def test_edit_form_refuses_another_officials_hr_id(unit_admin_client: FlaskClient, person: Callable[..., str],
                                                   unit: Unit, services: Services) -> None:
    official = services.mailboxes.add(NewMailbox(full_name="Trần Chính Chủ", unit_code=unit.code,
                                                 hr_id=f"HR-{unit.code}-2")).mailbox
    squatter = person("Lê Chiếm Chỗ", unit)
    token = csrf_token(unit_admin_client, f"/mailboxes/{squatter}")
    page = unit_admin_client.post(f"/mailboxes/{squatter}/edit", follow_redirects=True, data={
        "csrf_token": token, "hr_id": official.hr_id, "title": "", "phone": "", "quota_mib": "0", "aliases": ""})
    assert "đã thuộc về hộp thư khác" in page.get_data(as_text=True)
    assert services.mailboxes.get(squatter).hr_id == ""


def test_slapd_itself_refuses_a_second_holder_of_an_hr_id(services: Services, unit: Unit) -> None:
    """Two writers racing past the service's check still cannot both win: the unique overlay decides."""
    first = services.mailboxes.add(NewMailbox(full_name="Phạm Đua Một", unit_code=unit.code,
                                              hr_id=f"HR-{unit.code}-3")).mailbox
    second = services.mailboxes.add(NewMailbox(full_name="Phạm Đua Hai", unit_code=unit.code)).mailbox
    squatting = replace(services.mailboxes.get(second.uid), hr_id=first.hr_id)
    with pytest.raises(Conflict):
        services.mailboxes.store.update(services.mailboxes.store.find_entry(second.uid).dn, squatting)


# -- unit-list addresses -------------------------------------------------------------------------

def test_no_alias_may_take_another_units_list_address(unit_admin_client: FlaskClient, person: Callable[..., str],
                                                      unit: Unit, services: Services) -> None:
    uid = person("Đinh Văn Chặn", unit)
    token = csrf_token(unit_admin_client, f"/mailboxes/{uid}")
    page = unit_admin_client.post(f"/mailboxes/{uid}/edit", follow_redirects=True, data={
        "csrf_token": token, "aliases": "ds-558@phuyen.gov.vn", "title": "", "phone": "", "hr_id": "",
        "quota_mib": "0"}).get_data(as_text=True)
    assert "dành riêng" in page and services.mailboxes.get(uid).aliases == ()


def test_no_custom_list_may_take_a_unit_list_address(unit_admin_client: FlaskClient, person: Callable[..., str],
                                                     unit: Unit, services: Services) -> None:
    member = person("Đinh Văn Thành Viên", unit)
    token = csrf_token(unit_admin_client, f"/lists?unit={unit.code}")
    for name in ("ds-558", f"ds-{unit.code.lower()}"):
        page = unit_admin_client.post("/lists/new", follow_redirects=True, data={
            "csrf_token": token, "unit": unit.code, "name": name, "members": member}).get_data(as_text=True)
        assert "dành riêng" in page, name
    created = unit_admin_client.post("/lists/new", data={"csrf_token": token, "unit": unit.code, "kind": "unit"})
    assert created.status_code == 302
    assert services.lists.get(unit.code, f"ds-{unit.code.lower()}").members >= 1


def test_import_refuses_a_unit_list_alias(admin_client: FlaskClient, unit: Unit) -> None:
    data = _csv([[f"SQ-{unit.code}", "Trương Văn Chặn", unit.code, "", "", "", "ds-558@phuyen.gov.vn", ""]])
    job = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    page = admin_client.get(f"/imports/{job}").get_data(as_text=True)
    assert re.search(r'id="count-error">\s*1<', page) and "dành riêng" in page


# -- imports over role holders -------------------------------------------------------------------

def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_labels())
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_hr_import_cannot_suspend_or_retire_an_admin(app: Flask, person: Callable[..., str], unit: Unit,
                                                    services: Services) -> None:
    chief = person("Hoàng Quản Trị", unit, Role.SUPERADMIN)
    deputy = person("Hoàng Quản Đơn Vị", unit, Role.UNITADMIN, (unit,))
    plain = person("Hoàng Văn Thường", unit)
    for uid, hr_id in ((chief, "ADM-1"), (deputy, "ADM-2"), (plain, "ADM-3")):
        hr_id = f"{hr_id}-{unit.code}"
        services.mailboxes.update(uid, title="", phone="", hr_id=hr_id, quota_mib=0, aliases=())
    rows = [[f"ADM-{n}-{unit.code}", services.mailboxes.get(uid).name.full, unit.code, "", "", "", "", status]
            for n, uid, status in ((1, chief, "retired"), (2, deputy, "suspended"), (3, plain, "suspended"))]
    client = app.test_client()
    login(client, person("Cán Bộ Nhân Sự", unit, Role.HR, (unit,)))
    job = upload(client, _csv(rows)).headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/imports/{job}").get_data(as_text=True)
    assert re.search(r'id="count-error">\s*2<', page) and "quyền quản trị rộng hơn" in page
    client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(client, f"/imports/{job}")})
    wait_done(client, job)
    assert services.mailboxes.get(chief).status is Status.ACTIVE
    assert services.mailboxes.get(deputy).status is Status.ACTIVE
    assert services.mailboxes.get(plain).status is Status.SUSPENDED


def test_retire_missing_skips_admins_with_a_reason(app: Flask, person: Callable[..., str], unit: Unit,
                                                   services: Services) -> None:
    from mailadmin.importer.plan import PlanOptions

    chief = person("Hoàng Quản Trị", unit, Role.SUPERADMIN)
    hr = services.principal(person("Cán Bộ Nhân Sự", unit, Role.HR, (unit,)))
    options = PlanOptions(retire_missing=unit.code, scope=(unit.code,),
                          protected=services.mailboxes.protected_from(hr))
    preview = services.imports.preview(_csv([]), "staff.csv", options=options)
    refused = [a for a in preview.plan.actions if a.before and a.before.uid == chief]
    assert [a.outcome.value for a in refused] == ["error"]
    assert "rights beyond yours" in refused[0].error.message.render("en")


# -- password quality ----------------------------------------------------------------------------

def change(client: FlaskClient, old: str, new: str) -> tuple[int, str]:
    token = csrf_token(client, "/password")
    answer = client.post("/password", data={"csrf_token": token, "old_password": old, "new_password": new,
                                            "confirm": new})
    return answer.status_code, answer.get_data(as_text=True)


@pytest.mark.parametrize("weak", WEAK)
def test_weak_passwords_are_refused_with_the_reason(app: Flask, person: Callable[..., str], unit: Unit,
                                                    weak: str) -> None:
    client = app.test_client()
    login(client, person("Nguyễn Văn Yếu", unit))
    status, page = change(client, PASSWORD, weak)
    assert status == 400 and "quá dễ đoán" in page


def test_a_password_holding_ones_own_name_or_address_is_refused(app: Flask, person: Callable[..., str],
                                                               unit: Unit) -> None:
    uid = person("Phan Thị Quỳnh", unit)
    client = app.test_client()
    login(client, uid)
    for personal in (f"{uid}-Khong-doan-2026!", "Quynh-tu-chon-2026!", "PHAN-tu-chon-2026!"):
        status, page = change(client, PASSWORD, personal)
        assert status == 400 and "không được chứa tên" in page, personal


def test_an_earlier_password_cannot_come_back(app: Flask, person: Callable[..., str], unit: Unit,
                                              services: Services) -> None:
    uid = person("Võ Văn Nhớ", unit)
    client = app.test_client()
    login(client, uid)
    assert change(client, PASSWORD, "Hoa-sen-no-mua-he-7")[0] == 302
    assert change(client, "Hoa-sen-no-mua-he-7", "Song-Ba-chay-ra-bien-8")[0] == 302
    status, page = change(client, "Song-Ba-chay-ra-bien-8", PASSWORD)
    assert status == 400 and "đã dùng mật khẩu này gần đây" in page
    status, page = change(client, "Song-Ba-chay-ra-bien-8", "Hoa-sen-no-mua-he-7")
    assert status == 400 and "đã dùng mật khẩu này gần đây" in page


def test_an_admin_reset_with_the_previous_initial_password_is_refused(services: Services, unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Lâm Văn Cũ", unit_code=unit.code))
    with pytest.raises(InvalidInput, match="recently"):
        services.mailboxes.reset_password(created.mailbox.uid, created.initial_password)


def test_english_page_gives_the_reason_in_english(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    client = app.test_client()
    login(client, person("Nguyễn Văn Anh Ngữ", unit))
    client.get("/lang/en?next=/password")
    status, page = change(client, PASSWORD, "password123")
    assert status == 400 and "too easy to guess" in page


def test_a_password_with_a_control_character_is_refused_not_stored(app: Flask, person: Callable[..., str],
                                                                   unit: Unit) -> None:
    """It could be saved but never used: every bind refuses it (SASLprep)."""
    client = app.test_client()
    login(client, person("Ngô Văn Ký Tự", unit))
    status, page = change(client, PASSWORD, "Song-Ba\x07-ra-bien-2026")
    assert status == 400 and "ký tự điều khiển" in page


def test_an_import_job_id_that_is_no_job_id_is_not_found(admin_client: FlaskClient) -> None:
    for job in ("x" * 5000, "..", "20261129-000000-zzzzzz", "%2e%2e"):
        assert admin_client.get(f"/imports/{job}").status_code == 404, job[:20]
