"""One enrolment when two web processes confirm a second factor at once (two tabs or two devices, each its own
secret): the directory's write decides, the other confirmation is told why and changes nothing."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.model import Unit
from mailadmin.web.guard import principal
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.web.conftest import csrf_token, login
from tests.web.test_second_factor_http import next_code, send_code

CODES = r'<code class="copyable">([a-z0-9]{5}-[a-z0-9]{5})</code>'
ANOTHER_SESSION = "vừa được bật từ một phiên khác"


@pytest.fixture
def other_app(directory: RunningDirectory) -> Iterator[Flask]:
    """A second web process on the same directory (its own resent-forms locks and caches)."""
    flask_app = create_app({"TESTING": True}, settings=directory.settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def enrolment_form(client: FlaskClient) -> tuple[str, dict[str, str]]:
    """The session's own secret from the enrolment page and its confirmation form, filled in."""
    page = client.get("/me/second-factor").get_data(as_text=True)
    found = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page)
    assert found, page
    secret = found.group(1)
    return secret, {"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(client, "/me/second-factor")}


def enrolments(services: Services, uid: str) -> int:
    return len([e for e in services.audit.entries() if e.action == "second_factor.enrol" and e.target == uid])


def logs_in_with(app: Flask, uid: str, code: str) -> bool:
    """Whether a fresh browser gets past the password and this code."""
    client = app.test_client()
    assert login(client, uid).location.startswith("/login/code")
    return send_code(client, code).status_code == 302


def test_a_confirmation_already_under_way_when_another_process_enrols_changes_nothing(
        app: Flask, other_app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    """The second process read the person (not enrolled) before the first one's write: its write is refused."""
    uid = person("Võ Thị Hai Máy", unit)
    first, second = app.test_client(), other_app.test_client()
    login(first, uid)
    login(second, uid)
    first_secret, first_form = enrolment_form(first)
    second_secret, second_form = enrolment_form(second)
    cookie = second.get_cookie("session")
    assert cookie is not None
    with other_app.test_request_context("/me/second-factor", method="POST", data=second_form,
                                        headers={"Cookie": f"session={cookie.value}"}):
        assert not principal().second_factor  # the second process let its request in: not enrolled yet
        won = first.post("/me/second-factor", data=first_form)
        lost = other_app.full_dispatch_request()
    assert won.status_code == 302
    text = lost.get_data(as_text=True)
    assert lost.status_code == 409 and ANOTHER_SESSION in text and "Traceback" not in text
    assert "session=" not in lost.headers.get("Set-Cookie", "")  # a browser holding both keeps the winner's
    assert not re.findall(CODES, text)
    assert enrolments(services, uid) == 1
    codes = re.findall(CODES, first.get("/me/second-factor").get_data(as_text=True))
    assert len(codes) == 10
    assert not logs_in_with(app, uid, next_code(second_secret))  # the loser's secret was never stored
    assert logs_in_with(app, uid, next_code(first_secret))
    assert logs_in_with(other_app, uid, codes[0])


def test_two_processes_confirming_at_once_enrol_once(app: Flask, other_app: Flask, person: Callable[..., str],
                                                     unit: Unit, services: Services) -> None:
    uid = person("Võ Văn Cùng Lúc", unit)
    clients = [app.test_client(), other_app.test_client()]
    for client in clients:
        login(client, uid)
    forms = [enrolment_form(client) for client in clients]
    start = threading.Barrier(2)
    answers: list = [None, None]

    def confirm(n: int) -> None:
        start.wait(timeout=30)
        answers[n] = clients[n].post("/me/second-factor", data=forms[n][1])

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = [(answer.status_code, answer.location) for answer in answers]
    assert enrolments(services, uid) == 1
    winner = next(n for n, answer in enumerate(answers)
                  if answer.status_code == 302 and answer.location.endswith("/me/second-factor"))
    loser = answers[1 - winner]
    # The loser is told why (it wrote and was refused) or, had it come after the write, was sent to log in again.
    assert loser.status_code == 409 and ANOTHER_SESSION in loser.get_data(as_text=True) \
        or "/login" in loser.location, statuses
    codes = re.findall(CODES, clients[winner].get("/me/second-factor").get_data(as_text=True))
    assert len(codes) == 10
    assert not logs_in_with(app, uid, next_code(forms[1 - winner][0]))
    assert logs_in_with(app, uid, next_code(forms[winner][0]))
