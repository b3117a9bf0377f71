"""The reorganisation page in a real browser: upload the plan, review, confirm, watch the progress, undo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailadmin import create_app
from mailadmin.model import Role
from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN, dump
from tests.reorg.test_reorg_http import role_holder
from tests.web.conftest import PASSWORD, served, sign_in
from tests.web.test_browser import playwright_api, pytestmark  # noqa: F401


@pytest.fixture
def small_url(small: RunningDirectory) -> Iterator[str]:
    yield from served(create_app(settings=small.settings))


def test_upload_review_confirm_progress_and_undo(page: object, small_url: str, small: RunningDirectory) -> None:
    expect = playwright_api.expect
    services = small.services
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    before = dump(services)
    uid = role_holder(services, Role.SUPERADMIN)
    sign_in(page, small_url, uid, PASSWORD)
    page.click("#nav-reorg")
    page.set_input_files("#file", files=[{"name": "plan.yaml", "mimeType": "application/yaml",
                                          "buffer": PLAN.read_bytes()}])
    page.click("#upload")
    expect(page.locator("#units")).to_contain_text("Phường Tuy Hòa")
    expect(page.locator("#totals")).to_contain_text("21")
    page.click("#confirm")
    expect(page.locator("#done")).to_be_visible(timeout=60_000)
    expect(page.locator("#state")).to_have_text("Đã xong")
    page.click("#undo")
    expect(page.locator("#state")).to_have_text("Đã hoàn tác", timeout=60_000)
    assert script_errors == []
    assert {dn for dn in dump(services) if "ou=66" in dn} == set()
    assert set(dump(services)) == set(before) | {dn for dn in dump(services) if dn.startswith(f"uid={uid},")}

