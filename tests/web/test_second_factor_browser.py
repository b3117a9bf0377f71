"""TOTP in a real browser (Debian chromium + Playwright): enrol from the page, log in with password and code."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator

import pyotp
import pytest

from mailadmin import create_app
from mailadmin.model import Role, Unit
from mailadmin.settings import Auth
from tests.conftest import RunningDirectory
from tests.web.conftest import CHROMIUM, served, sign_in  # and the chromium fixtures `browser`, `page`

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


@pytest.fixture(scope="module")
def base_url(directory: RunningDirectory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The web admin with the shipped policy (super admins and unit admins enrol), served in a thread.

    Its wrong codes are counted in a throttle file of its own: the session's file is shared with
    tests/web/test_serve.py, which counts failures from 127.0.0.1.
    """
    settings = dataclasses.replace(directory.settings, auth=Auth(("superadmin", "unitadmin")))
    app = create_app(settings=settings)
    app.extensions["mailadmin"].login_throttle_path = tmp_path_factory.mktemp("throttle") / "logins.sqlite3"
    yield from served(app)


def log_out(page: object) -> None:
    page.click("header button")


def give_code(page: object, code: str) -> None:
    assert "/login/code" in page.url
    page.fill("#code", code)
    page.click("#verify")


def test_enrol_then_log_in_with_a_code_replay_refused_recovery_once(page: object, base_url: str, unit: Unit,
                                                                    person: Callable[..., str]) -> None:
    uid = person("Nguyễn Thị Hai Bước", unit, Role.UNITADMIN, (unit,))
    sign_in(page, base_url, uid)
    page.goto(f"{base_url}/mailboxes")
    assert page.url.endswith("/me/second-factor")  # nothing else before enrolment
    assert page.is_visible("#qr svg")
    secret = page.inner_text("#totp-secret").strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#confirm-second-factor")
    codes = [item.strip() for item in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10
    log_out(page)

    sign_in(page, base_url, uid)
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: the current one was used to enrol
    give_code(page, code)
    page.goto(f"{base_url}/mailboxes")
    assert page.url.endswith("/mailboxes")
    log_out(page)

    sign_in(page, base_url, uid)
    give_code(page, code)  # replayed
    assert "/login/code" in page.url and "đã dùng rồi" in page.inner_text("main")
    give_code(page, codes[0])
    assert "Đã dùng một mã khôi phục" in page.inner_text("main")
    log_out(page)

    sign_in(page, base_url, uid)
    give_code(page, codes[0])  # a recovery code works once
    assert "/login/code" in page.url and "đã dùng rồi" in page.inner_text("main")
