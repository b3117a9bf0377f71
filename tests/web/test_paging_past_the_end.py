"""Past the last page (API offset ≥ total, web page > pages): an empty page, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services


def _bearer(services: Services, uid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.tokens.issue(uid)}"}


def test_api_offset_at_and_past_the_total_gives_no_items(client: FlaskClient, person: Callable[..., str],
                                                         unit: Unit, services: Services) -> None:
    headers = _bearer(services, person("Đọc Giả Trang", unit, Role.AUDITOR))
    for offset in (1, 2, 50, 10**7):
        answer = client.get("/api/v1/mailboxes", query_string={"unit": unit.code, "offset": offset},
                            headers=headers)
        assert answer.status_code == 200, (offset, answer.get_data(as_text=True))
        assert answer.get_json() == {"total": 1, "items": []}


def test_api_offset_past_an_empty_result(client: FlaskClient, person: Callable[..., str], unit: Unit,
                                         services: Services) -> None:
    headers = _bearer(services, person("Đọc Giả Rỗng", unit, Role.AUDITOR))
    answer = client.get("/api/v1/mailboxes", query_string={"unit": unit.code, "q": "khongaico", "offset": 5},
                        headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"total": 0, "items": []}


def test_web_page_past_the_last_shows_the_last_page(admin_client: FlaskClient, unit: Unit) -> None:
    for page in (2, 3, 1_000_000):
        answer = admin_client.get("/mailboxes", query_string={"unit": unit.code, "page": page})
        assert answer.status_code == 200, (page, answer.status_code)
        body = answer.get_data(as_text=True)
        assert "Trang 1 / 1" in body and "Quản Trị Viên" in body
