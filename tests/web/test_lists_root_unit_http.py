"""List pages and the list API open at the configured province's root unit, whatever its code (not "54")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from mailadmin import create_app
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, make_settings
from tests.web.conftest import PASSWORD, login

UNITS = """units:
  - code: "56"
    name: "Tỉnh Khánh Hòa"
    kind: province
    children:
      - code: "STC"
        name: "Sở Tài chính"
        kind: agency
      - code: "568"
        name: "Thành phố Nha Trang"
        kind: district
"""


@pytest.fixture
def khanh_hoa(tmp_path: Path) -> Iterator[tuple[Flask, Services]]:
    """An app on a fresh directory whose province is Khánh Hòa (root code 56, no unit 54)."""
    units = tmp_path / "units.yaml"
    units.write_text(UNITS, encoding="utf-8")
    running = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_ORGANISATION_UNITS_FILE=str(units),
                                             MAILADMIN_ORGANISATION_MAIL_DOMAIN="khanhhoa.gov.vn"))
    app = create_app({"TESTING": True}, settings=running.settings)
    yield app, running.services
    app.extensions["mailadmin"].close()
    running.stop()


def role_holder(services: Services, name: str, role: Role) -> str:
    uid = services.mailboxes.add(NewMailbox(full_name=name, unit_code="56", password=PASSWORD)).mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    services.role_changes.grant(uid, role)
    return uid


@pytest.mark.parametrize("role", [Role.SUPERADMIN, Role.AUDITOR])
def test_global_reader_naming_no_unit_sees_the_province_root(khanh_hoa: tuple[Flask, Services], role: Role) -> None:
    app, services = khanh_hoa
    uid = role_holder(services, "Trần Toàn Tỉnh", role)
    services.lists.create("56", "lanhdao", "Lãnh đạo tỉnh", [uid])
    client = app.test_client()
    assert login(client, uid).status_code == 302
    page = client.get("/lists")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Tỉnh Khánh Hòa" in text and "lanhdao@khanhhoa.gov.vn" in text
    api = app.test_client()
    answer = api.get("/api/v1/lists", headers={"Authorization": f"Bearer {services.tokens.issue(uid)}"})
    assert answer.status_code == 200
    assert [(item["name"], item["unit"]) for item in answer.get_json()["items"]] == [("lanhdao", "56")]
