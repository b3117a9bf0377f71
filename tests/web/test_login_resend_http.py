"""The login pages with F5 and double clicks: a password or code refused and sent again counts once (the
directory is not bound again), a success sent again goes on. A login form rendered again is a new attempt."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, csrf_token, login
from tests.web.test_second_factor_http import enrol, next_code

SENT_AGAIN = "không tính thêm một lần sai"


def source_failures(app: Flask) -> int:
    """Failed logins the app's throttle counts for the test client's address (its 429 comes from this)."""
    return app.extensions["mailadmin"].logins.throttle.per_source.count("src:web:127.0.0.1")


def flashed(answer: object) -> str:
    return " ".join(re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', answer.get_data(as_text=True), re.S))


def login_form(client: FlaskClient, username: str, password: str) -> dict[str, str]:
    """The login form as the page renders it (its token and once-only submission id), filled in."""
    page = client.get("/login").get_data(as_text=True)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission, "the login form carries no once-only submission id"
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, page
    return {"username": username, "password": password, "csrf_token": token.group(1),
            "submission": submission.group(1)}


def failed_binds(services: Services, uid: str) -> int:
    """The failed binds ppolicy recorded on the person's entry (its lockout counts these)."""
    dn = services.mailboxes.store.find_entry(uid).dn
    return len(services.client.get(dn, ["pwdFailureTime"]).raw("pwdFailureTime"))


def test_f5_on_a_wrong_password_counts_it_once(app: Flask, person: Callable[..., str], unit: Unit,
                                               services: Services) -> None:
    uid = person("Mật Khẩu Sai Gửi Lại", unit)
    client = app.test_client()
    before = source_failures(app)
    form = login_form(client, uid, "sai-mat-khau")
    first, again = client.post("/login", data=form), client.post("/login", data=form)
    assert first.status_code == again.status_code == 401 and SENT_AGAIN in flashed(again)
    assert "Sai tên đăng nhập hoặc mật khẩu" in flashed(again)
    assert source_failures(app) == before + 1 and failed_binds(services, uid) == 1  # not bound again
    retyped = client.post("/login", data=login_form(client, uid, "sai-mat-khau"))  # the form shown again
    assert retyped.status_code == 401 and SENT_AGAIN not in flashed(retyped)
    assert source_failures(app) == before + 2 and failed_binds(services, uid) == 2
    assert client.post("/login", data={**form, "password": PASSWORD}).status_code == 302  # corrected: tried


def test_a_login_or_logout_sent_again_after_it_worked_goes_on_instead_of_form_expired(
        app: Flask, person: Callable[..., str], unit: Unit) -> None:
    uid = person("Gửi Lại Thành Công", unit)
    client = app.test_client()
    form = {"username": uid, "password": PASSWORD, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=form).status_code == 302
    again = client.post("/login", data=form)  # the session (and its form token) was replaced by the login
    assert again.status_code == 302 and again.headers["Location"] == "/"
    token = csrf_token(client, "/me")
    assert client.post("/logout", data={"csrf_token": token}).headers["Location"] == "/login"
    again = client.post("/logout", data={"csrf_token": token})
    assert again.status_code == 302 and again.headers["Location"] == "/login"
    assert client.get("/me").status_code == 302  # still logged out


def second_step(app: Flask, uid: str) -> FlaskClient:
    """A client past the password of an enrolled person, at the code page."""
    client = app.test_client()
    assert login(client, uid).headers["Location"].startswith("/login/code")
    return client


def test_f5_on_a_refused_code_counts_it_once(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    uid = person("Mã Sai Gửi Lại", unit)
    enrolling = app.test_client()
    login(enrolling, uid)
    secret, _ = enrol(enrolling)
    client = second_step(app, uid)
    before = source_failures(app)
    form = {"code": "000000", "csrf_token": csrf_token(client, "/login/code")}
    first, again = client.post("/login/code", data=form), client.post("/login/code", data=form)
    assert first.status_code == again.status_code == 401 and SENT_AGAIN in flashed(again)
    assert source_failures(app) == before + 1
    right = client.post("/login/code", data={**form, "code": next_code(secret)})
    assert right.status_code == 302 and client.get("/me").status_code == 200


def test_a_double_click_on_the_code_keeps_the_first_login(app: Flask, person: Callable[..., str],
                                                          unit: Unit) -> None:
    uid = person("Bấm Mã Hai Lần", unit)
    enrolling = app.test_client()
    login(enrolling, uid)
    secret, _ = enrol(enrolling)
    first = second_step(app, uid)
    form = {"code": next_code(secret), "csrf_token": csrf_token(first, "/login/code")}
    second = app.test_client()  # the same browser: the second request carries the cookie from before the first
    second.set_cookie("session", first.get_cookie("session").value)
    before = source_failures(app)
    assert first.post("/login/code", data=form).status_code == 302
    answer = second.post("/login/code", data=form)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert "Set-Cookie" not in answer.headers  # the browser keeps the logged-in cookie of the first answer
    assert source_failures(app) == before and first.get("/me").status_code == 200
