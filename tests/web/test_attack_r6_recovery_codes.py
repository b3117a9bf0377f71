"""New recovery codes (round 6) from a session someone else holds (a browser left open): the form asks for a code,
so guessing it must run into the login throttle like the login's code step, each guess under a fresh form (a new
submission id) counted, and past the limit even the right code makes no codes."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.test_recovery_codes_http import PATH, enrolled, regenerate_form, regenerations
from tests.web.test_second_factor_http import next_code


def test_guessing_the_code_is_throttled(app: Flask, person: Callable[..., str], unit: Unit,
                                        services: Services) -> None:
    uid, client, (secret, old_codes) = enrolled(app, person("Đoán Mã Khôi Phục", unit))
    limit = app.extensions["mailadmin"].logins.throttle.per_login.limit
    for guess in range(limit):
        answer = client.post(PATH, data=regenerate_form(client, f"{guess:06d}"))
        assert answer.status_code == 400
    answer = client.post(PATH, data=regenerate_form(client, next_code(secret)))
    assert answer.status_code == 400 and regenerations(services, uid) == []
    recovery = client.post(PATH, data=regenerate_form(client, old_codes[0]))  # a recovery code is no way round
    assert recovery.status_code == 400 and regenerations(services, uid) == []
