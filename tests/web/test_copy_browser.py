"""/me's mail-program settings go to the clipboard in one click, and the button says so (issue #12: "with a
one-click copy"; the page test only saw the button)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailadmin.model import Unit
from tests.web.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def test_one_click_puts_the_settings_on_the_clipboard(browser: object, page: object, base_url: str,
                                                      person: Callable[..., str], unit: Unit) -> None:
    browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    sign_in(page, base_url, person("Văn Thị Sao Chép", unit))
    page.goto(f"{base_url}/me")
    page.click("#copy-client")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "mail.phuyen.gov.vn" in copied and "993" in copied and "STARTTLS" in copied
    assert len(copied.splitlines()) >= 6 and ": " in copied.splitlines()[0]
    assert page.inner_text("#copy-client") == "Đã sao chép"
