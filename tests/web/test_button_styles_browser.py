"""Buttons say what they do by their look (issue #12: "all buttons are the same red"): only the destructive
ones (retire, new passwords for a sheet) are red; saving is a plain primary button, the rest secondary."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mailadmin.model import Role, Unit
from tests.web.conftest import CHROMIUM, sign_in

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")
BACKGROUNDS = """() => Object.fromEntries([...document.querySelectorAll('main button')]
  .filter(b => b.id).map(b => [b.id, getComputedStyle(b).backgroundColor]))"""
RED = "rgb(179, 38, 30)"  # --brand


def test_only_destructive_buttons_are_red(page: object, base_url: str, person: Callable[..., str],
                                          unit: Unit) -> None:
    sign_in(page, base_url, person("Quản Trị Màu Nút", unit, Role.SUPERADMIN))
    page.goto(f"{base_url}/mailboxes/{person('Lý Thị Nút Bấm', unit)}")
    colours = page.evaluate(BACKGROUNDS)
    assert colours["retire"] == RED
    red = {name for name, colour in colours.items() if colour == RED}
    assert red == {"retire"}, colours
    assert colours["save"] != colours["suspend"]  # the primary action stands apart from the secondary ones
