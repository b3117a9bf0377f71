"""The handover sheet as PDF (issue #12: "a printable page (and PDF)", as LAM's per-account PDF): the browser's own
print to PDF gives one page per unit with the names and passwords. No server-side PDF library: docs/web.md says why."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

import pytest

from mailadmin.model import Role, Unit
from tests.web.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def pdf_pages(data: bytes) -> int:
    """Pages of a PDF Chromium wrote (its page tree's count)."""
    return max(int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)
               + re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data))


def pdf_streams(data: bytes) -> bytes:
    """Every content stream, inflated where it can be (enough to find that text was drawn)."""
    found = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            found.append(zlib.decompress(stream))
        except zlib.error:
            found.append(stream)
    return b"".join(found)


def test_printing_a_selection_to_pdf_gives_one_page_per_unit(page: object, base_url: str,
                                                             person: Callable[..., str], unit: Unit,
                                                             other_unit: Unit) -> None:
    admin = person("Quản Trị In Phiếu", unit, Role.SUPERADMIN)
    chosen = [person("Lưu Thị In Phiếu", unit), person("Lưu Văn In Phiếu", other_unit)]
    sign_in(page, base_url, admin)
    page.goto(f"{base_url}/handover?uid={chosen[0]}&uid={chosen[1]}")
    page.once("dialog", lambda dialog: dialog.accept())  # "Cấp mật khẩu mới và in phiếu cho 2 hộp thư?"
    page.click("#print-handover")
    page.wait_for_selector(f"#unit-{other_unit.code}")
    assert page.locator("section").count() == 2 and page.locator("code").count() == 2
    page.emulate_media(media="print")
    assert not page.locator(".no-print").is_visible()  # the on-screen hint is not printed
    data = page.pdf(format="A4", print_background=False)
    assert data.startswith(b"%PDF") and pdf_pages(data) == 2
    assert pdf_streams(data).count(b"Tj") + pdf_streams(data).count(b"TJ") > 0  # text, not an empty page
