"""A bulk action asks first (issue #12: "no confirmation before retire or bulk actions"): "no" changes nothing,
"yes" acts on the selection and the search stays."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def test_a_bulk_suspension_is_asked_first(page: object, base_url: str, person: Callable[..., str], unit: Unit,
                                          services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Hỏi Trước", unit, Role.SUPERADMIN))
    chosen = person("Tạ Thị Được Chọn", unit)
    page.goto(f"{base_url}/mailboxes?unit={unit.code}&q=duoc+chon")
    page.check(f"input[name=uid][value={chosen}]")
    page.select_option("p.bulk select[name=action]", "suspend")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("p.bulk button[type=submit]")
    assert questions == ["Thực hiện thao tác này với mọi hộp thư đã chọn?"]
    assert services.mailboxes.get(chosen).status is Status.ACTIVE  # "no": nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("p.bulk button[type=submit]")
    page.wait_for_url("**q=duoc+chon**")
    assert services.mailboxes.get(chosen).status is Status.SUSPENDED
    assert page.input_value("#q") == "duoc chon"  # the search stays
