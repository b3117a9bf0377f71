"""Second factor (TOTP) through the Flask test client on a real slapd: enrolment, login, policy, ACL, reset."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.directory.second_factor import RECOVERY, SECRET
from mailadmin.errors import ConfigError, PermissionDenied
from mailadmin.model import Role, Unit
from mailadmin.settings import Auth
from mailadmin.smtp.config import mailserver_directory
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.test_cli import run
from tests.web.conftest import PASSWORD, csrf_token, login

POLICY = ("superadmin", "unitadmin")


@pytest.fixture
def policy_app(directory: RunningDirectory) -> Iterator[Flask]:
    """The web admin with the shipped policy: super admins and unit admins must enrol."""
    settings = dataclasses.replace(directory.settings, auth=Auth(POLICY))
    flask_app = create_app({"TESTING": True}, settings=settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def enrol(client: FlaskClient) -> tuple[str, list[str]]:
    """Enrol through /me/second-factor with the secret read from the page; (secret, recovery codes)."""
    page = client.get("/me/second-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page
    response = client.post("/me/second-factor", data={"code": pyotp.TOTP(secret).now(),
                                                      "csrf_token": csrf_token(client, "/me/second-factor")})
    assert response.status_code == 302
    shown = client.get("/me/second-factor").get_data(as_text=True)
    codes = re.findall(r'<code class="copyable">([a-z0-9]{5}-[a-z0-9]{5})</code>', shown)
    assert len(codes) == 10
    assert codes[0] not in client.get("/me/second-factor").get_data(as_text=True)  # shown once
    return secret, codes


def send_code(client: FlaskClient, code: str):
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_token(client, "/login/code")})


def next_code(secret: str) -> str:
    """The code of the next time step (the server accepts one step of drift; the current one was used)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_unenrolled_unit_admin_reaches_only_enrolment(policy_app: Flask, person: Callable[..., str],
                                                      unit: Unit) -> None:
    client = policy_app.test_client()
    assert login(client, person("Lê Chưa Đăng Ký", unit, Role.UNITADMIN, (unit,))).status_code == 302
    for path in ("/", "/mailboxes", "/units", f"/units/{unit.code}", "/me/token"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/me/second-factor"), path
    for path in ("/me", "/password", "/me/second-factor"):
        assert client.get(path).status_code == 200, path
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/me")}).status_code == 302


def test_an_unknown_role_in_the_policy_stops_the_start(directory: RunningDirectory) -> None:
    settings = dataclasses.replace(directory.settings, auth=Auth(("superadmin", "chủ tịch")))
    with pytest.raises(ConfigError, match="chủ tịch"):
        create_app({"TESTING": True}, settings=settings)


def test_the_code_page_needs_a_password_first(app: Flask) -> None:
    response = app.test_client().get("/login/code")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_plain_owner_is_not_asked_to_enrol(policy_app: Flask, person: Callable[..., str], unit: Unit) -> None:
    client = policy_app.test_client()
    assert login(client, person("Phan Văn Nhân Viên", unit)).status_code == 302
    assert client.get("/me").status_code == 200
    assert "Bật xác thực hai lớp" in client.get("/me").get_data(as_text=True)


def test_api_refuses_an_unenrolled_role_holder(policy_app: Flask, person: Callable[..., str], unit: Unit,
                                               services: Services) -> None:
    uid = person("Đỗ Văn Mã Cũ", unit, Role.UNITADMIN, (unit,))
    token = services.tokens.issue(uid)  # issued before the policy applied to them
    response = policy_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert "xác thực hai lớp" in response.json["error_vi"] and "second factor" in response.json["error"]


def test_enrol_then_password_and_code_then_api_token(policy_app: Flask, person: Callable[..., str],
                                                     unit: Unit, services: Services) -> None:
    uid = person("Vũ Thị Hai Lớp", unit, Role.UNITADMIN, (unit,))
    client = policy_app.test_client()
    login(client, uid)
    secret, _codes = enrol(client)
    assert client.get("/mailboxes").status_code == 200
    assert client.post("/me/token", data={"csrf_token": csrf_token(client, "/me")}).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/me")})

    fresh = policy_app.test_client()
    response = login(fresh, uid)
    assert response.status_code == 302 and "/login/code" in response.location
    assert fresh.get("/mailboxes").status_code == 302  # the password alone is no login
    assert fresh.get("/mailboxes").location.startswith("/login")
    assert send_code(fresh, "000000").status_code == 401
    code = next_code(secret)
    assert send_code(fresh, code).status_code == 302
    assert fresh.get("/mailboxes").status_code == 200
    assert any(e.action == "second_factor.enrol" and e.target == uid for e in services.audit.entries())

    replay = policy_app.test_client()
    login(replay, uid)
    response = send_code(replay, code)
    assert response.status_code == 401 and "đã dùng rồi" in response.get_data(as_text=True)


def test_recovery_code_works_once(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    """A plain owner enrols voluntarily; a recovery code replaces the phone once."""
    uid = person("Hồ Thị Khôi Phục", unit)
    client = app.test_client()
    login(client, uid)
    _secret, codes = enrol(client)
    first = app.test_client()
    login(first, uid)
    assert send_code(first, codes[3].upper()).status_code == 302
    assert first.get("/me").status_code == 200
    again = app.test_client()
    login(again, uid)
    assert send_code(again, codes[3]).status_code == 401
    assert send_code(again, codes[4]).status_code == 302


def test_wrong_codes_are_failed_logins(app: Flask, person: Callable[..., str], unit: Unit) -> None:
    uid = person("Mạc Văn Đoán Mã", unit)
    client = app.test_client()
    login(client, uid)
    secret, _codes = enrol(client)
    guesser = app.test_client()
    login(guesser, uid)
    statuses = [send_code(guesser, f"{n:06d}").status_code for n in range(4)]
    assert statuses == [401] * 4
    assert send_code(guesser, next_code(secret)).status_code == 429  # throttled: not even checked


def test_only_the_service_account_reads_the_secret(app: Flask, person: Callable[..., str], unit: Unit,
                                                   services: Services, directory: RunningDirectory) -> None:
    uid = person("Tô Văn Bí Mật", unit)
    client = app.test_client()
    login(client, uid)
    enrol(client)
    dn = services.mailboxes.store.find_entry(uid).dn
    assert services.client.get(dn, [SECRET]).text(SECRET)
    config = services.client.config
    owner = DirectoryClient(DirectoryConfig(config.uris, config.base_dn, dn, PASSWORD))
    mailserver = DirectoryClient(mailserver_directory(directory.settings))
    try:
        for reader in (owner, mailserver):
            entry = reader.get(dn, [SECRET, RECOVERY, "maTotpLastStep"])
            assert entry is None or (entry.raw(SECRET) == [] and entry.raw(RECOVERY) == [])
            assert reader.search(config.base_dn, f"({SECRET}=*)") == []
            with pytest.raises(PermissionDenied):  # nor write it (e.g. a secret of their own choosing)
                reader.modify(dn, {SECRET: ("replace", ["chosen"])})
    finally:
        owner.close()
        mailserver.close()


def test_super_admin_resets_a_second_factor(app: Flask, admin_client: FlaskClient, person: Callable[..., str],
                                            unit: Unit, services: Services) -> None:
    uid = person("Quách Văn Mất Máy", unit, Role.UNITADMIN, (unit,))
    owner = app.test_client()
    login(owner, uid)
    enrol(owner)
    assert services.roles.holder(uid).second_factor
    page = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="reset-second-factor"' in page
    assert admin_client.post(f"/mailboxes/{uid}/second-factor/reset").status_code == 400  # no CSRF token
    response = admin_client.post(f"/mailboxes/{uid}/second-factor/reset",
                                 data={"csrf_token": csrf_token(admin_client, f"/mailboxes/{uid}")})
    assert response.status_code == 302
    assert not services.roles.holder(uid).second_factor
    assert owner.get("/me").status_code == 302  # the owner's sessions ended with the reset
    actions = services.audit.path.read_text(encoding="utf-8")
    assert '"second_factor.reset"' in actions and '"second_factor.enrol"' in actions
    assert login(app.test_client(), uid).location.endswith("/")  # the password alone again


def test_unit_admin_may_not_reset_a_second_factor(app: Flask, unit_admin_client: FlaskClient,
                                                  person: Callable[..., str], unit: Unit,
                                                  services: Services) -> None:
    uid = person("Chu Văn Nhân Sự", unit)
    owner = app.test_client()
    login(owner, uid)
    enrol(owner)
    response = unit_admin_client.post(f"/mailboxes/{uid}/second-factor/reset",
                                      data={"csrf_token": csrf_token(unit_admin_client, f"/mailboxes/{uid}")})
    assert response.status_code == 403
    assert services.roles.holder(uid).second_factor


def test_a_time_step_and_a_recovery_code_are_taken_once_by_the_directory(app: Flask, person: Callable[..., str],
                                                                         unit: Unit, services: Services) -> None:
    """Two processes checking the same code: slapd lets only the first take the step or the code."""
    uid = person("Lạc Văn Hai Nơi", unit)
    client = app.test_client()
    login(client, uid)
    enrol(client)
    store = services.second_factor.store
    dn = services.mailboxes.store.find_entry(uid).dn
    enrolment = store.read(dn)
    later = enrolment.last_step + 1
    assert store.take_step(dn, enrolment.last_step, later)
    assert not store.take_step(dn, enrolment.last_step, later)  # the other process read the same last step
    assert store.take_recovery(dn, enrolment.recovery[0])
    assert not store.take_recovery(dn, enrolment.recovery[0])


def test_the_owner_disables_their_second_factor(app: Flask, person: Callable[..., str], unit: Unit,
                                                services: Services) -> None:
    """Only with a code: a session left open (or stolen) cannot turn the owner's second factor off and
    enrol its own."""
    uid = person("Ninh Thị Tắt Bớt", unit)
    client = app.test_client()
    login(client, uid)
    _secret, codes = enrol(client)
    for code in ("", "000000", "khong-phai-ma"):
        refused = client.post("/me/second-factor/disable",
                              data={"code": code, "csrf_token": csrf_token(client, "/me/second-factor")})
        assert refused.status_code == 400 and services.roles.holder(uid).second_factor, code
        assert "mã" in refused.get_data(as_text=True)
    response = client.post("/me/second-factor/disable",
                           data={"code": codes[0], "csrf_token": csrf_token(client, "/me/second-factor")})
    assert response.status_code == 302 and client.get("/me").status_code == 200  # this session goes on
    assert not services.roles.holder(uid).second_factor
    assert any(e.action == "second_factor.disable" and e.target == uid for e in services.audit.entries())
    assert login(app.test_client(), uid).location.endswith("/")  # the password alone again


def test_dashboard_counts_an_enrolment(app: Flask, admin_client: FlaskClient, person: Callable[..., str],
                                       unit: Unit) -> None:
    def coverage() -> tuple[int, int]:
        page = admin_client.get("/").get_data(as_text=True)
        found = re.search(r'id="second-factor-coverage">(\d+) / (\d+)<', page)
        return int(found.group(1)), int(found.group(2))

    uid = person("Khổng Văn Đếm Số", unit, Role.UNITADMIN, (unit,))
    enrolled, holders = coverage()
    client = app.test_client()
    login(client, uid)
    enrol(client)
    assert coverage() == (enrolled + 1, holders)


def test_the_operator_resets_a_second_factor_from_the_command_line(directory: RunningDirectory,
                                                                   person: Callable[..., str], unit: Unit,
                                                                   services: Services) -> None:
    """The only super admin lost phone and recovery codes: `mailadmin mailbox second-factor-reset`."""
    uid = person("Lý Văn Quản Trị", unit, Role.SUPERADMIN)
    secret = services.second_factor.new_secret()
    services.second_factor.confirm(uid, secret, pyotp.TOTP(secret).now())
    result = run(directory, "mailbox", "second-factor-reset", uid)
    assert result.returncode == 0 and "second factor removed" in result.stdout, result.stderr
    assert not services.roles.holder(uid).second_factor
    again = run(directory, "mailbox", "second-factor-reset", uid)
    assert again.returncode == 0 and "has no second factor" in again.stdout
