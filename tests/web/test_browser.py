"""The web admin in a real browser: Debian's chromium driven by Playwright, against a real slapd."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailadmin import create_app
from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, free_port
from tests.web.conftest import PASSWORD

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


@pytest.fixture(scope="module")
def base_url(directory: RunningDirectory) -> Iterator[str]:
    """The web admin served by werkzeug in a thread on a free loopback port."""
    from werkzeug.serving import make_server

    app = create_app(settings=directory.settings)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    app.extensions["mailadmin"].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium with a fresh profile, never downloaded (executable_path)."""
    profile = tempfile.mkdtemp(prefix="mailadmin-chromium-")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=ARGS, headless=True, locale="vi-VN")
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    browser.clear_cookies()
    tab = browser.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    tab.close()


def sign_in(page: object, base_url: str, uid: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", uid)
    page.fill("#password", password)
    page.click("button[type=submit]")


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
