"""Self-service forms sent twice (F5, a double click): a wrong code to disable the second factor counts
once, an enrolment's recovery codes are not lost, a token page does not show a token already replaced."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_second_factor_http import enrol, send_code
from tests.web.test_token_management import works

CODES = r'<code class="copyable">([a-z0-9]{5}-[a-z0-9]{5})</code>'


def session_cookie(client: FlaskClient) -> str:
    """The session cookie the browser holds now."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def sent_again(client: FlaskClient, path: str, data: dict[str, str], cookie: str):
    """The same form sent again with the cookie the browser had when it sent the first (a double click)."""
    client.set_cookie("session", cookie)
    return client.post(path, data=data)


def test_a_wrong_disable_code_sent_again_counts_once(app: Flask, person: Callable[..., str], unit: Unit,
                                                     services: Services) -> None:
    uid = person("Lương Văn Gửi Lại", unit)
    client = app.test_client()
    login(client, uid)
    _secret, codes = enrol(client)
    form = {"code": "000000", "csrf_token": csrf_token(client, "/me/second-factor")}
    answers = [client.post("/me/second-factor/disable", data=form) for _ in range(6)]  # F5 past the throttle
    assert [answer.status_code for answer in answers] == [400] * 6
    texts = [answer.get_data(as_text=True) for answer in answers]
    assert all("Mã không đúng" in text for text in texts)
    assert "gửi lại y hệt" not in texts[0] and "gửi lại y hệt" in texts[1]
    done = client.post("/me/second-factor/disable",
                       data={"code": codes[0], "csrf_token": csrf_token(client, "/me/second-factor")})
    assert done.status_code == 302 and not services.roles.holder(uid).second_factor  # not throttled


def test_an_enrolment_confirmed_twice_shows_its_recovery_codes_once(app: Flask, person: Callable[..., str],
                                                                   unit: Unit, services: Services) -> None:
    uid = person("Đinh Thị Bấm Đúp", unit)
    client = app.test_client()
    login(client, uid)
    page = client.get("/me/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    form = {"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/me/second-factor")}
    before = session_cookie(client)
    first = client.post("/me/second-factor", data=form)
    assert first.status_code == 302
    holding_codes = session_cookie(client)
    second = sent_again(client, "/me/second-factor", form, before)
    assert second.status_code == 302 and "session=" not in second.headers.get("Set-Cookie", "")
    enrolments = [e for e in services.audit.entries() if e.action == "second_factor.enrol" and e.target == uid]
    assert len(enrolments) == 1  # enrolled once: the codes the first answer holds are the ones that work

    client.set_cookie("session", holding_codes)  # the first answer's cookie reached the browser
    shown = client.get(second.location).get_data(as_text=True)
    codes = re.findall(CODES, shown)
    assert len(codes) == 10
    assert not re.findall(CODES, client.get(second.location).get_data(as_text=True))  # once
    assert login(app.test_client(), uid).location.endswith("/login/code")

    client.set_cookie("session", before)  # it did not: logged in again, the page says where they went
    assert "/login" in client.get(second.location).location
    again = app.test_client()
    login(again, uid)
    assert send_code(again, codes[0]).status_code == 302
    lost = again.get(second.location).get_data(as_text=True)
    assert not re.findall(CODES, lost) and 'id="codes-shown-before"' in lost



def test_a_token_form_sent_twice_issues_one_token(app: Flask, person: Callable[..., str], unit: Unit,
                                                  services: Services) -> None:
    uid = person("Kiều Văn Hai Mã", unit, Role.AUDITOR)
    client = app.test_client()
    login(client, uid)
    page = client.get("/me").get_data(as_text=True)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission, page
    form = {"csrf_token": csrf_token(client, "/me"), "submission": submission.group(1)}
    before = session_cookie(client)
    assert client.post("/me/token", data=form).status_code == 302
    holding_token = session_cookie(client)
    second = sent_again(client, "/me/token", form, before)
    assert second.status_code == 302 and "session=" not in second.headers.get("Set-Cookie", "")
    client.set_cookie("session", holding_token)
    shown = client.get(second.location).get_data(as_text=True)
    token = shown.split('id="token">')[1].split("<")[0]
    assert works(app, token)  # the token shown is the one that acts: no second one replaced it
    issued = [e for e in services.audit.entries() if e.action == "api.token_issue" and e.target == uid]
    assert len(issued) == 1
    again = client.post("/me/token", data=form)  # F5 once its answer arrived: still that token
    assert again.status_code == 302 and works(app, token)


def test_a_token_form_double_clicked_at_once_issues_one_token(app: Flask, person: Callable[..., str], unit: Unit,
                                                              services: Services) -> None:
    """Both requests in flight together, with the same cookie: one token, and only its answer sets a cookie."""
    uid = person("Tạ Thị Cùng Lúc", unit, Role.AUDITOR)
    client = app.test_client()
    login(client, uid)
    page = client.get("/me").get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, "/me"),
            "submission": re.search(r'name="submission" value="([^"]+)"', page).group(1)}
    cookie = session_cookie(client)

    def click(_: int):
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        return browser.post("/me/token", data=form)

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(click, range(2)))
    assert [answer.status_code for answer in answers] == [302, 302]
    assert sum("session=" in answer.headers.get("Set-Cookie", "") for answer in answers) == 1
    assert len([e for e in services.audit.entries() if e.action == "api.token_issue" and e.target == uid]) == 1


def test_a_disable_sent_twice_keeps_the_session(app: Flask, person: Callable[..., str], unit: Unit,
                                                services: Services) -> None:
    """The first sending ends the other sessions (and the old cookie's): the second must not log the person out."""
    uid = person("Phan Văn Tắt Hai Lần", unit)
    client = app.test_client()
    login(client, uid)
    _secret, codes = enrol(client)
    form = {"code": codes[0], "csrf_token": csrf_token(client, "/me/second-factor")}
    before = session_cookie(client)
    assert client.post("/me/second-factor/disable", data=form).status_code == 302
    kept = session_cookie(client)
    second = sent_again(client, "/me/second-factor/disable", form, before)
    assert second.status_code == 302 and second.location.endswith("/me/second-factor")
    assert "session=" not in second.headers.get("Set-Cookie", "")
    client.set_cookie("session", kept)
    assert client.get("/me").status_code == 200 and not services.roles.holder(uid).second_factor
