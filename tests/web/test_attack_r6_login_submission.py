"""The login form's once-only submission id (round 6) must not let an attacker try passwords uncounted: the id is
only a part of what identifies a form sent again, with the session's form token, the name and the password typed.
Every real new attempt counts toward the throttle and ppolicy, whatever the attacker does with the id."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.test_login_resend_http import SENT_AGAIN, failed_binds, flashed, login_form, source_failures


@pytest.mark.parametrize("forged", ["same id", "no id", "empty id", "long id"])
def test_new_passwords_under_one_submission_id_each_count(forged: str, app: Flask, person: Callable[..., str],
                                                           unit: Unit, services: Services) -> None:
    uid = person("Thử Mật Khẩu Một Mã", unit)
    client = app.test_client()
    form = login_form(client, uid, "")
    form = {"same id": form, "no id": {k: v for k, v in form.items() if k != "submission"},
            "empty id": {**form, "submission": ""}, "long id": {**form, "submission": "x" * 200_000}}[forged]
    before = source_failures(app)
    for guess in ("doan-1", "doan-2", "doan-3"):
        answer = client.post("/login", data={**form, "password": guess})
        assert answer.status_code == 401 and SENT_AGAIN not in flashed(answer)
    assert source_failures(app) == before + 3 and failed_binds(services, uid) == 3


def test_one_password_under_one_id_for_several_names_counts_for_each(app: Flask, person: Callable[..., str],
                                                                    unit: Unit, services: Services) -> None:
    first, second = person("Tên Thứ Nhất Thử", unit), person("Tên Thứ Hai Thử", unit)
    client = app.test_client()
    form = login_form(client, first, "mat-khau-pho-bien")
    before = source_failures(app)
    for name in (first, second):
        answer = client.post("/login", data={**form, "username": name})
        assert answer.status_code == 401 and SENT_AGAIN not in flashed(answer)
    assert source_failures(app) == before + 2
    assert failed_binds(services, first) == failed_binds(services, second) == 1


def test_an_id_taken_from_another_session_is_a_new_attempt(app: Flask, person: Callable[..., str],
                                                           unit: Unit, services: Services) -> None:
    uid = person("Mã Của Phiên Khác", unit)
    victim, attacker = app.test_client(), app.test_client()
    stolen = login_form(victim, uid, "sai-lan-dau")
    assert victim.post("/login", data=stolen).status_code == 401
    before = source_failures(app)
    own = login_form(attacker, uid, "sai-lan-dau")
    answer = attacker.post("/login", data={**own, "submission": stolen["submission"]})
    assert answer.status_code == 401 and SENT_AGAIN not in flashed(answer)
    assert source_failures(app) == before + 1 and failed_binds(services, uid) == 2
