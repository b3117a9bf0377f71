"""Nobody suspends or retires their own mailbox from its page or through the API (it would end their own session
and lock them out): refused with a clear message, nothing written, as a bulk suspension already leaves it out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login

REFUSAL_VI = "Không thể tạm khóa hoặc cho thôi sử dụng hộp thư của chính bạn"
REFUSAL_EN = "your own mailbox cannot be suspended or retired"


@pytest.mark.parametrize("action", ["suspend", "retire"])
def test_the_own_mailbox_page_refuses_to_lock_oneself_out(app: Flask, person: Callable[..., str], unit: Unit,
                                                         services: Services, action: str) -> None:
    own = person("Hà Văn Tự Khóa", unit, Role.UNITADMIN, (unit,))
    other = person("Hà Văn Người Khác", unit)
    client = app.test_client()
    assert login(client, own).status_code == 302
    token = csrf_token(client, f"/mailboxes/{own}")
    answer = client.post(f"/mailboxes/{own}/status/{action}", data={"csrf_token": token})
    assert answer.status_code == 403 and REFUSAL_VI in answer.get_data(as_text=True)
    assert services.mailboxes.get(own).status is Status.ACTIVE
    assert client.get(f"/mailboxes/{own}").status_code == 200  # still signed in
    assert client.post(f"/mailboxes/{other}/status/{action}", data={"csrf_token": token}).status_code == 302
    assert services.mailboxes.get(other).status is not Status.ACTIVE  # anyone else's: as before


def test_the_refusal_is_in_english_too(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    own = person("Hà Thị Tự Khóa", unit, Role.SUPERADMIN)
    person("Hà Thị Quản Trị Khác", unit, Role.SUPERADMIN)  # not the last super admin: that rule is another one
    client = app.test_client()
    assert login(client, own).status_code == 302
    client.get("/lang/en")
    answer = client.post(f"/mailboxes/{own}/status/suspend", data={"csrf_token": csrf_token(client, "/me")})
    assert answer.status_code == 403 and REFUSAL_EN in answer.get_data(as_text=True)


def test_the_api_refuses_to_lock_oneself_out(app: Flask, person: Callable[..., str], unit: Unit,
                                             services: Services) -> None:
    own = person("Hà Văn Tự Khóa API", unit, Role.SUPERADMIN)
    person("Hà Văn Quản Trị Khác API", unit, Role.SUPERADMIN)
    headers = {"Authorization": f"Bearer {services.tokens.issue(own)}"}
    client = app.test_client()
    answer = client.post(f"/api/v1/mailboxes/{own}/suspend", headers=headers)
    assert answer.status_code == 403 and REFUSAL_VI in str(answer.get_json())
    assert services.mailboxes.get(own).status is Status.ACTIVE
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # the token still works


def test_the_api_refuses_to_reset_ones_own_password(app: Flask, person: Callable[..., str], unit: Unit,
                                                    services: Services) -> None:
    """As the mailbox page does: one's own password is changed at /password, with the current one."""
    own = person("Hà Văn Tự Đặt Lại API", unit, Role.SUPERADMIN)
    headers = {"Authorization": f"Bearer {services.tokens.issue(own)}"}
    client = app.test_client()
    answer = client.post(f"/api/v1/mailboxes/{own}/password", headers=headers)
    assert answer.status_code == 403 and "/password" in str(answer.get_json())
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # nothing changed: the token still works


def test_ones_own_page_offers_no_suspend_or_retire(app: Flask, person: Callable[..., str], unit: Unit,
                                                   services: Services) -> None:
    """The buttons the server would refuse are not shown; another admin's page still has them."""
    own = person("Hà Văn Trang Riêng", unit, Role.SUPERADMIN)
    other = person("Hà Văn Trang Khác", unit, Role.SUPERADMIN)
    client = app.test_client()
    assert login(client, own).status_code == 302
    page = client.get(f"/mailboxes/{own}").get_data(as_text=True)
    assert 'id="suspend"' not in page and 'id="retire"' not in page
    page = client.get(f"/mailboxes/{other}").get_data(as_text=True)
    assert 'id="suspend"' in page and 'id="retire"' in page
