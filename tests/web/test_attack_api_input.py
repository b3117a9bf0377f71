"""Attacked through the JSON API and the creation form: bodies of the wrong shape, quotas out of range.

Each gave a 500 (a traceback in the log) or wrote a mailbox with a quota no mail store can hold
before the fix: the answer is now a bilingual 400 and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import MailboxQuery
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


@pytest.fixture
def api(app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> tuple[FlaskClient, dict]:
    """A test client and the headers of a super admin's API token."""
    admin = person("Quản Trị Gửi Bậy", unit, Role.SUPERADMIN)
    return app.test_client(), {"Authorization": f"Bearer {services.tokens.issue(admin)}"}


def named(services: Services, unit: Unit, full_name: str) -> list[str]:
    """The uids of the unit's mailboxes with this name (what a refused creation must not have written)."""
    return [m.uid for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code)) if m.name.full == full_name]


def assert_bilingual_400(answer) -> None:
    body = answer.get_json()
    assert answer.status_code == 400, (answer.status_code, body)
    assert body["error"] and body["error_vi"] and body["error"] != body["error_vi"]


@pytest.mark.parametrize("extra", [{"quota_mib": "abc"}, {"quota_mib": [1]}, {"quota_mib": {"a": 1}},
                                   {"quota_mib": -5}, {"quota_mib": 10**30}, {"quota_mib": 1.5},
                                   {"quota_mib": True}, {"aliases": 5}, {"aliases": "x@phuyen.gov.vn"},
                                   {"aliases": [["x"]]}])
def test_api_create_refuses_a_malformed_field_and_writes_nothing(api: tuple[FlaskClient, dict], unit: Unit,
                                                                 services: Services, extra: dict) -> None:
    client, headers = api
    answer = client.post("/api/v1/mailboxes", json={"full_name": "Tạ Văn Sai Kiểu", "unit": unit.code, **extra},
                         headers=headers)
    assert_bilingual_400(answer)
    assert not named(services, unit, "Tạ Văn Sai Kiểu")


@pytest.mark.parametrize("body", [["x"], "x", 5, {"unit": ["a"]}, {"unit": None}])
def test_api_move_refuses_a_body_that_is_not_an_object_naming_a_unit(api: tuple[FlaskClient, dict], unit: Unit,
                                                                      person: Callable[..., str], services: Services,
                                                                      body: object) -> None:
    client, headers = api
    uid = person("Người Không Được Chuyển", unit)
    answer = client.post(f"/api/v1/mailboxes/{uid}/move", json=body, headers=headers)
    assert_bilingual_400(answer)
    assert services.mailboxes.get(uid).unit_code == unit.code


def test_api_create_takes_a_quota_in_range(api: tuple[FlaskClient, dict], unit: Unit) -> None:
    client, headers = api
    answer = client.post("/api/v1/mailboxes", json={"full_name": "Tạ Văn Đúng Hạn", "unit": unit.code,
                                                    "quota_mib": 4096, "aliases": []}, headers=headers)
    assert answer.status_code == 201 and answer.get_json()["mailbox"]["quota_mib"] == 4096


@pytest.mark.parametrize("quota", ["99999999999999999999", "1048577"])
def test_the_creation_form_refuses_a_quota_out_of_range(admin_client: FlaskClient, unit: Unit, services: Services,
                                                        quota: str) -> None:
    answer = admin_client.post("/mailboxes/new", data={
        "full_name": "Lê Thị Hạn Mức", "unit": unit.code, "quota_mib": quota, "submission": "s-quota-" + quota,
        "csrf_token": csrf_token(admin_client, "/mailboxes/new")})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "Hạn mức không hợp lệ" in page
    assert not named(services, unit, "Lê Thị Hạn Mức")
