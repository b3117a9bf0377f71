"""The web admin in a real browser: Debian's chromium driven by Playwright, against a real slapd."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import CHROMIUM, sign_in  # the fixtures base_url, browser and page are in conftest

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def test_login_and_create_mailbox_with_suggested_address(page: object, base_url: str, unit: Unit,
                                                         person: Callable[..., str], services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Trình Duyệt", unit, Role.SUPERADMIN))
    assert page.locator("h2").first.inner_text().startswith("Tổng quan")
    page.goto(f"{base_url}/mailboxes/new")
    page.fill("#full_name", "Châu Thị Ngọc Hân")
    playwright_api.expect(page.locator("#suggested")).to_contain_text("@")
    suggested = page.inner_text("#suggested")
    assert suggested.startswith("hanctn")
    page.select_option("#unit", unit.code)
    page.click("#create")
    assert page.inner_text("#mail") == suggested
    assert len(page.inner_text("#one-time-password")) >= 12
    assert services.mailboxes.get(suggested.split("@")[0]).unit_code == unit.code


def test_search_with_and_without_diacritics_then_suspend(page: object, base_url: str, unit: Unit,
                                                         person: Callable[..., str], services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Tìm Kiếm", unit, Role.SUPERADMIN))
    uid = person("Đỗ Thị Thu Hường", unit)
    for text in ("Thu Hường", "thu huong"):
        page.goto(f"{base_url}/mailboxes")
        page.fill("#q", text)
        page.click("#search")
        assert "Đỗ Thị Thu Hường" in page.inner_text("#mailboxes"), text
    page.click(f"#mailboxes a[href$='/mailboxes/{uid}']")
    assert page.locator("#resume").count() == 0  # nothing to reactivate on an active mailbox
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("#suspend")  # asked first; "no" changes nothing
    assert questions and "Tạm khóa hộp thư này?" in questions[0]
    assert services.mailboxes.get(uid).status is Status.ACTIVE
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#suspend")
    assert "tạm khóa" in page.inner_text("#status")
    assert services.mailboxes.get(uid).status is Status.SUSPENDED
    assert page.locator("#suspend").count() == 0 and page.locator("#resume").count() == 1


def test_reset_password_then_first_login_forces_a_change(page: object, base_url: str, unit: Unit,
                                                         person: Callable[..., str], services: Services) -> None:
    sign_in(page, base_url, person("Quản Trị Đặt Lại", unit, Role.SUPERADMIN))
    uid = person("Kiều Văn Quên", unit)
    page.goto(f"{base_url}/mailboxes/{uid}")
    page.click("#reset-password")
    one_time = page.inner_text("#one-time-password")
    page.click("header button")  # log out
    sign_in(page, base_url, uid, one_time)
    assert page.url.endswith("/password") and page.is_visible("#forced")
    page.goto(f"{base_url}/mailboxes")
    assert page.url.endswith("/password")  # nothing else before the change
    page.fill("#old_password", one_time)
    page.fill("#new_password", "Mat-khau-rieng-2026")
    page.fill("#confirm", "Mat-khau-rieng-2026")
    page.click("#change")
    assert "Đã đổi mật khẩu" in page.inner_text("main")
    dn = services.mailboxes.store.find_entry(uid).dn
    assert services.client.check_password(dn, "Mat-khau-rieng-2026")


def test_unit_admin_is_blocked_outside_their_unit(page: object, base_url: str, unit: Unit, other_unit: Unit,
                                                  person: Callable[..., str], services: Services) -> None:
    sign_in(page, base_url, person("Quản Lý Đơn Vị", unit, Role.UNITADMIN, (unit,)))
    outsider = person("Người Ngoài Đơn Vị", other_unit)
    response = page.goto(f"{base_url}/mailboxes/{outsider}")
    assert response.status == 403 and "Lỗi 403" in page.inner_text("h2")
    response = page.goto(f"{base_url}/mailboxes?unit={other_unit.code}")
    assert response.status == 403
    page.goto(f"{base_url}/mailboxes")
    assert "Người Ngoài Đơn Vị" not in page.inner_text("#mailboxes")
    assert services.mailboxes.get(outsider).status is Status.ACTIVE
