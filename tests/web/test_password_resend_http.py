"""The password form sent again unchanged (F5 on the refusal, a double click) counts a wrong old password once."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login

NEW = "Mat-khau-moi-2026-rat-dai"


def logged_in(app: Flask, uid: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client


def wrong_old(client: FlaskClient, old: str = "Sai-mat-khau-cu-1") -> dict[str, str]:
    return {"csrf_token": csrf_token(client, "/password"), "old_password": old, "new_password": NEW, "confirm": NEW}


def test_f5_on_a_refused_password_change_counts_the_wrong_old_password_once(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    uid = person("Gửi Lại Hai", unit)
    client = logged_in(app, uid)
    form = wrong_old(client)
    first, second = client.post("/password", data=form), client.post("/password", data=form)  # F5: resent
    assert first.status_code == second.status_code == 400
    assert services.mailboxes.lock_state(uid).failures == 1
    for answer in (first, second):
        page = answer.get_data(as_text=True)
        assert "Mật khẩu hiện tại không đúng" in page and "Traceback" not in page and "uid=" not in page
    assert "không tính thêm" in second.get_data(as_text=True)
    client.post("/password", data=wrong_old(client, "Sai-mat-khau-cu-2"))  # another guess counts
    assert services.mailboxes.lock_state(uid).failures == 2
    right = {**wrong_old(client), "old_password": PASSWORD}
    assert client.post("/password", data=right).status_code == 302


def test_a_double_click_on_a_refused_password_change_counts_once(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    uid = person("Bấm Hai Lần", unit)
    clients = [logged_in(app, uid), logged_in(app, uid)]
    form = wrong_old(clients[0])
    cookie = clients[0].get_cookie("session")
    clients[1].set_cookie("session", cookie.value)  # the same browser: both requests carry one cookie
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda client: client.post("/password", data=form), clients))
    assert [answer.status_code for answer in answers] == [400, 400]
    assert services.mailboxes.lock_state(uid).failures == 1


def test_a_double_click_on_a_right_password_change_changes_it_once_and_counts_nothing(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    uid = person("Đổi Một Lần", unit)
    clients = [logged_in(app, uid), logged_in(app, uid)]
    form = {**wrong_old(clients[0]), "old_password": PASSWORD}
    clients[1].set_cookie("session", clients[0].get_cookie("session").value)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda client: client.post("/password", data=form), clients))
    assert [answer.status_code for answer in answers] == [302, 302]  # home, or the login page if it came late
    assert services.mailboxes.lock_state(uid).failures == 0
    again = app.test_client()
    assert login(again, uid, NEW).status_code == 302
