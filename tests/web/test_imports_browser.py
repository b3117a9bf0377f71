"""The web import in a real browser: upload a CSV, see the plan, confirm, watch the progress, download results."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import sign_in
from tests.web.test_browser import playwright_api, pytestmark  # noqa: F401
from tests.web.test_imports_http import by_hr_id, staff_csv


def test_upload_preview_confirm_progress_and_results(page: object, base_url: str, unit: Unit,
                                                     person: Callable[..., str], services: Services) -> None:
    expect = playwright_api.expect
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    sign_in(page, base_url, person("Cán Bộ Tổ Chức", unit, Role.HR, (unit,)))
    page.click("#nav-imports")
    data, hr_ids = staff_csv(unit, "Lâm Thị Trình Duyệt", "Lâm Văn Tải Lên", prefix="BR")
    page.set_input_files("#file", files=[{"name": "nhan-su.csv", "mimeType": "text/csv", "buffer": data}])
    page.click("#upload")

    expect(page.locator("#plan")).to_contain_text("Lâm Thị Trình Duyệt")
    expect(page.locator("#count-create")).to_have_text("2")
    assert by_hr_id(services, hr_ids) == {}  # the preview wrote nothing
    page.click("#confirm")

    expect(page.locator("#done")).to_be_visible()
    expect(page.locator("#progress-text")).to_have_text("2 / 2")
    with page.expect_response(lambda response: response.url.endswith("/status")) as polled:
        page.reload()  # the progress page is rebuilt from the journal and polls the status (CSP allows imports.js)
    assert polled.value.json()["state"] == "done"
    expect(page.locator("#state")).to_have_text("Đã xong")
    assert set(by_hr_id(services, hr_ids)) == set(hr_ids)

    with page.expect_download() as download:
        page.click("#results")
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_bytes().decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == sorted(hr_ids) and all(len(row[-1]) >= 12 for row in rows[1:])
    expect(page.locator("#results-taken")).to_be_visible()
    page.reload()
    expect(page.locator("#results-form")).to_be_hidden()
    assert script_errors == []
