"""A password SASLprep refuses (control characters) is a wrong password at login, not a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from mailadmin.model import Role, Unit
from tests.web.conftest import login


@pytest.mark.parametrize("password", ["Mat-khau\x07web", "\x1b[0m", "x\ufffey"])
def test_control_character_password_is_refused_as_wrong(app: Flask, person: Callable[..., str], unit: Unit,
                                                        password: str) -> None:
    uid = person("Phan Văn Điều Khiển", unit, Role.AUDITOR)
    answer = login(app.test_client(), uid, password)
    assert answer.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in answer.get_data(as_text=True)
