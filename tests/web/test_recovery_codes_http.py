"""New recovery codes from the second-factor page: asked with the authenticator's code, shown once, the old ones
stop working, audited, bilingual, protected by CSRF, and made once when the form is sent twice."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.errors import Conflict
from mailadmin.model import Unit
from mailadmin.services.second_factor import new_recovery_codes
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_login_resend_http import SENT_AGAIN, flashed
from tests.web.test_resent_self_service_http import CODES, sent_again, session_cookie
from tests.web.test_second_factor_http import enrol, next_code
from tests.web.test_second_factor_race_http import logs_in_with

PATH = "/me/second-factor/recovery-codes"


def regenerate_form(client: FlaskClient, code: str) -> dict[str, str]:
    """The page's regeneration form (its token and once-only submission id) with `code` typed in."""
    page = client.get("/me/second-factor").get_data(as_text=True)
    form = re.search(rf'<form[^>]*action="{PATH}".*?</form>', page, re.S)
    assert form, "the second-factor page offers no new recovery codes"
    submission = re.search(r'name="submission" value="([^"]+)"', form.group(0))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.group(0))
    assert submission and token
    return {"code": code, "csrf_token": token.group(1), "submission": submission.group(1)}


def enrolled(app: Flask, uid: str) -> tuple[str, FlaskClient, tuple[str, list[str]]]:
    """The person, logged in with a second factor just enrolled: (uid, client, (secret, recovery codes))."""
    client = app.test_client()
    login(client, uid)
    return uid, client, enrol(client)


def regenerations(services: Services, uid: str) -> list:
    return [e for e in services.audit.entries() if e.action == "second_factor.recovery_regenerate" and e.target == uid]


def shown_codes(client: FlaskClient) -> list[str]:
    return re.findall(CODES, client.get("/me/second-factor").get_data(as_text=True))


def test_new_recovery_codes_replace_the_old_ones(app: Flask, person: Callable[..., str], unit: Unit,
                                                 services: Services) -> None:
    uid, client, (secret, old) = enrolled(app, person("Trịnh Văn Mã Mới", unit))
    refused = client.post(PATH, data=regenerate_form(client, "000000"))
    assert refused.status_code == 400 and "Mã không đúng" in flashed(refused) and not regenerations(services, uid)
    answer = client.post(PATH, data=regenerate_form(client, next_code(secret)))
    assert answer.status_code == 302 and answer.location.endswith("/me/second-factor")
    page = client.get("/me/second-factor").get_data(as_text=True)
    new = re.findall(CODES, page)
    assert len(new) == 10 and not set(new) & set(old) and 'id="old-codes-void"' in page
    assert shown_codes(client) == []  # shown once
    [entry] = regenerations(services, uid)
    assert entry.after == {"method": "totp", "recovery_codes": 10}
    assert not logs_in_with(app, uid, old[1])  # the old codes stop working
    assert logs_in_with(app, uid, new[0])
    assert not logs_in_with(app, uid, new[0])  # once
    assert logs_in_with(app, uid, new[1])


def test_the_form_sent_twice_makes_codes_once(app: Flask, person: Callable[..., str], unit: Unit,
                                              services: Services) -> None:
    """A double click: the second request carries the cookie from before the first answer (which holds the
    codes to show); it makes no other codes and sets no cookie."""
    uid, client, (secret, _old) = enrolled(app, person("Trịnh Thị Bấm Đúp Mã", unit))
    form = regenerate_form(client, next_code(secret))
    before = session_cookie(client)
    assert client.post(PATH, data=form).status_code == 302
    holding_codes = session_cookie(client)
    second = sent_again(client, PATH, form, before)
    assert second.status_code == 302 and "session=" not in second.headers.get("Set-Cookie", "")
    assert len(regenerations(services, uid)) == 1
    client.set_cookie("session", holding_codes)
    codes = shown_codes(client)
    assert len(codes) == 10 and logs_in_with(app, uid, codes[0])  # the codes shown are the ones that work
    client.set_cookie("session", before)  # the second answer reached the page instead: it says so
    page = client.get(second.location).get_data(as_text=True)
    assert not re.findall(CODES, page) and 'id="codes-made-before"' in page


def test_a_wrong_code_sent_again_counts_once(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    uid, client, _ = enrolled(app, person("Trịnh Văn Sai Mã Mới", unit))
    failures = app.extensions["mailadmin"].logins.throttle.per_source
    before = failures.count("src:web:127.0.0.1")
    form = regenerate_form(client, "000000")
    first, again = client.post(PATH, data=form), client.post(PATH, data=form)
    assert first.status_code == again.status_code == 400 and SENT_AGAIN in flashed(again)
    assert failures.count("src:web:127.0.0.1") == before + 1


def test_without_the_form_token_nothing_changes(app: Flask, person: Callable[..., str], unit: Unit,
                                                services: Services) -> None:
    uid, client, (secret, old) = enrolled(app, person("Trịnh Văn Không Token", unit))
    form = regenerate_form(client, next_code(secret))
    del form["csrf_token"]
    assert client.post(PATH, data=form).status_code == 400
    assert not regenerations(services, uid) and logs_in_with(app, uid, old[0])


def test_the_form_speaks_english_too(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    uid, client, (secret, _old) = enrolled(app, person("Trịnh Thị Tiếng Anh", unit))
    client.get("/lang/en")
    page = client.get("/me/second-factor").get_data(as_text=True)
    assert re.search(r'id="regenerate-recovery-codes"[^>]*>New recovery codes<', page)
    assert client.post(PATH, data=regenerate_form(client, next_code(secret))).status_code == 302
    assert "the old ones no longer work" in client.get("/me/second-factor").get_data(as_text=True)
    refused = client.post(PATH, data=regenerate_form(client, "000000"))
    assert "the code is wrong" in flashed(refused)


def test_not_enrolled_there_is_nothing_to_renew(app: Flask, person: Callable[..., str], unit: Unit,
                                                services: Services) -> None:
    client = app.test_client()
    uid = person("Trịnh Văn Chưa Bật", unit)
    login(client, uid)
    assert 'id="regenerate-recovery-codes"' not in client.get("/me/second-factor").get_data(as_text=True)
    answer = client.post(PATH, data={"code": "123456", "csrf_token": csrf_token(client, "/me/second-factor")})
    assert answer.status_code == 302 and answer.location.endswith("/me/second-factor")
    assert not regenerations(services, uid)


def test_codes_changed_meanwhile_are_not_replaced(app: Flask, person: Callable[..., str], unit: Unit,
                                                  services: Services) -> None:
    """The write names the codes it replaces: one used (or others made) since they were read refuses it."""
    uid, client, (_secret, old) = enrolled(app, person("Trịnh Văn Vừa Đổi", unit))
    store = services.second_factor.store
    dn = services.mailboxes.store.find_entry(uid).dn
    read = store.read(dn)
    assert read is not None
    assert logs_in_with(app, uid, old[0])  # another session uses a code meanwhile
    with pytest.raises(Conflict, match="changed in another session"):
        store.replace_recovery(dn, read.recovery, new_recovery_codes()[1])
    assert logs_in_with(app, uid, old[1])  # nothing was replaced
