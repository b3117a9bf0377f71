"""A handover sheet from a selection in the mailbox list (issue #12: "produced from an import job or a selection"):
confirm, then new initial passwords printed once per unit, audited; a resend prints nothing and resets nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login


def printed_password(sheet: str, uid: str) -> str:
    return sheet.split(f"{uid}@phuyen.gov.vn</td><td><code>")[1].split("<")[0]


def test_a_selection_becomes_a_sheet_once_with_passwords_that_open_the_accounts(
        admin_client: FlaskClient, app: Flask, person: Callable[..., str], unit: Unit, other_unit: Unit,
        services: Services) -> None:
    first, second = person("Đinh Thị Nhận Phiếu", unit), person("Đinh Văn Nhận Phiếu", other_unit)
    gone = person("Đinh Văn Đã Nghỉ", unit)
    services.mailboxes.retire(gone)
    token = csrf_token(admin_client, f"/mailboxes?unit={unit.code}")
    back = f"/mailboxes?unit={unit.code}"
    chosen = admin_client.post("/mailboxes/bulk", data={"csrf_token": token, "action": "handover", "back": back,
                                                        "uid": [first, second, gone]})
    assert chosen.status_code == 302 and chosen.headers["Location"].startswith("/handover?")
    confirm = admin_client.get(chosen.headers["Location"])
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Đinh Thị Nhận Phiếu" in page and "Đinh Văn Đã Nghỉ" in page
    assert f">{other_unit.name}</td>" in page  # units by name, as in the lists
    assert "mật khẩu hiện tại" in page and 'id="skipped"' in page  # the warning; the retired one is left out
    submission = re.search(r'name="submission" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "submission": submission, "uid": [first, second, gone]}
    sheet = admin_client.post("/handover", data=form)
    text = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and f'id="unit-{unit.code}"' in text and f'id="unit-{other_unit.code}"' in text
    assert "Lần đăng nhập đầu tiên" in text and "Đinh Văn Đã Nghỉ" not in text
    password = printed_password(text, first)
    assert login(app.test_client(), first, password).status_code == 302  # the printed password opens it
    again = admin_client.post("/handover", data=form)  # F5 / a resent form
    assert again.status_code == 409 and password not in again.get_data(as_text=True)
    assert login(app.test_client(), first, password).status_code == 302  # not reset a second time
    assert login(app.test_client(), gone, PASSWORD).status_code != 302  # retired: untouched, still refused
    printed = [e.target for e in services.audit.entries() if e.action == "mailbox.handover"]
    assert printed.count(first) == printed.count(second) == 1 and gone not in printed  # each one's history shows it


def test_a_unit_admin_cannot_print_a_wider_role_holder(app: Flask, person: Callable[..., str], unit: Unit,
                                                      other_unit: Unit) -> None:
    holder = person("Đinh Quản Khác", unit, Role.UNITADMIN, (other_unit,))
    client = app.test_client()
    login(client, person("Đinh Quản Lý", unit, Role.UNITADMIN, (unit,)))
    token = csrf_token(client, "/me")
    assert client.post("/mailboxes/bulk", data={"csrf_token": token, "action": "handover",
                                                "uid": [holder]}).status_code == 403
    assert client.get(f"/handover?uid={holder}").status_code == 403
    assert client.post("/handover", data={"csrf_token": token, "submission": "x", "uid": [holder]}).status_code == 403
    assert login(app.test_client(), holder, PASSWORD).status_code == 302  # the holder's password still works


def test_without_a_selection_the_page_says_how_to_make_one(admin_client: FlaskClient) -> None:
    page = admin_client.get("/handover")
    assert page.status_code == 200 and 'id="nothing-selected"' in page.get_data(as_text=True)
