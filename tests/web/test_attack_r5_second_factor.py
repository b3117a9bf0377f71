"""Turning one's second factor off from an open session (round 5): a replayed code, a used recovery code, and
guessing. Each is refused, and the factor stays (held)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_second_factor_http import enrol, next_code, send_code


def disable(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return client.post("/me/second-factor/disable",
                       data={"code": code, "csrf_token": csrf_token(client, "/me/second-factor")})


def test_the_code_that_confirmed_the_enrolment_does_not_turn_it_off(app: Flask, person: Callable[..., str],
                                                                      unit: Unit, services: Services) -> None:
    uid = person("Khổng Văn Phát Lại", unit)
    client = app.test_client()
    login(client, uid)
    page = client.get("/me/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)  # type: ignore[union-attr]
    code = pyotp.TOTP(secret).at(time.time())
    assert client.post("/me/second-factor", data={"code": code, "csrf_token": csrf_token(client, "/me/second-factor")}
                       ).status_code == 302
    assert disable(client, code).status_code == 400
    assert services.roles.holder(uid).second_factor  # type: ignore[union-attr]


def test_a_recovery_code_spent_at_a_login_does_not_turn_it_off(app: Flask, person: Callable[..., str], unit: Unit,
                                                                services: Services) -> None:
    uid = person("Khổng Thị Mã Đã Dùng", unit)
    client = app.test_client()
    login(client, uid)
    _secret, codes = enrol(client)
    other = app.test_client()
    login(other, uid)
    assert send_code(other, codes[0]).status_code == 302  # spent here
    assert disable(client, codes[0]).status_code == 400
    assert services.roles.holder(uid).second_factor  # type: ignore[union-attr]


def test_guessing_codes_to_turn_it_off_is_throttled(app: Flask, person: Callable[..., str], unit: Unit,
                                                    services: Services) -> None:
    """A stolen session guessing six digits: after a few wrong codes even the right one is refused for a while."""
    uid = person("Khổng Văn Đoán Mã", unit)
    client = app.test_client()
    login(client, uid)
    secret, _codes = enrol(client)
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + drift) for drift in (-60, -30, 0, 30, 60)}
    guesses = [guess for guess in (f"{n:06d}" for n in range(40)) if guess not in valid][:20]
    for guess in guesses:
        assert disable(client, guess).status_code == 400
    assert disable(client, next_code(secret)).status_code == 400
    assert services.roles.holder(uid).second_factor  # type: ignore[union-attr]


def test_a_super_admin_may_not_reset_their_own_second_factor_without_a_code(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    """The reset (a colleague's lost phone) is for others: on one's own mailbox it skipped the code that turning
    the factor off asks for, so a session left open plus the password gave the account to a new phone."""
    uid = person("Khổng Văn Tự Xóa", unit, Role.SUPERADMIN)
    client = app.test_client()
    login(client, uid)
    enrol(client)
    answer = client.post(f"/mailboxes/{uid}/second-factor/reset",
                         data={"csrf_token": csrf_token(client, f"/mailboxes/{uid}")})
    assert answer.status_code == 403
    assert services.roles.holder(uid).second_factor  # type: ignore[union-attr]
    assert client.get("/me").status_code == 200  # nothing happened: the session goes on
