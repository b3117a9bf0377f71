"""Certificate sign-in through the Flask test client on a real slapd: the peer rule, the policy, the dashboard.

The proxy's headers are set by the test as nginx sets them; tests/test_cert_signin_nginx.py runs the real nginx.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.certs.keys import fingerprint_key
from mailadmin.errors import ConfigError
from mailadmin.model import Role, Unit
from mailadmin.settings import Auth
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.certs.helpers import cert_for, certificate_service
from tests.conftest import RunningDirectory
from tests.test_cert_signin_nginx import VALID, make_ca
from tests.web.conftest import csrf_token, login

PROXY = "127.0.0.1"  # the test client's address: the trusted proxy here
POLICY = Auth(("superadmin", "unitadmin"), True, ("superadmin",))


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[f.Hierarchy, Path]:
    """A test CA valid now, and its trust-anchor folder."""
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def cert_app(directory: RunningDirectory, ca: tuple[f.Hierarchy, Path]) -> Iterator[Flask]:
    """The web admin behind a trusted proxy at the test client's address, certificate sign-in on."""
    settings = directory.settings
    settings = dataclasses.replace(settings, auth=POLICY, web=dataclasses.replace(settings.web, trusted_proxy=PROXY),
                                   certificates=dataclasses.replace(settings.certificates, trust_anchors=str(ca[1])))
    flask_app = create_app({"TESTING": True}, settings=settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


@pytest.fixture
def bind(services: Services, ca: tuple[f.Hierarchy, Path]) -> Callable[[str], f.Issued]:
    """Bind a new certificate, valid now, to a mailbox; returns it."""
    def bound(uid: str) -> f.Issued:
        issued = cert_for(ca[0].issuing, services.mailboxes.get(uid), **VALID)
        certificate_service(services, trust_anchors=str(ca[1])).bind(uid, f.pem(issued.cert))
        return issued
    return bound


def headers(issued: f.Issued, verdict: str = "SUCCESS") -> dict[str, str]:
    """What nginx sends with a request that carried this client certificate."""
    return {"X-Client-Certificate": urllib.parse.quote(f.pem(issued.cert).decode()), "X-Client-Verify": verdict}


def with_certificate(client: FlaskClient, issued: f.Issued, verdict: str = "SUCCESS", **environ: str):
    return client.post("/login/certificate", headers=headers(issued, verdict), environ_base=environ)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_unit_admin_with_a_bound_certificate_needs_it_after_the_password(
        cert_app: Flask, person: Callable[..., str], unit: Unit, bind: Callable[[str], f.Issued]) -> None:
    uid = person("Phạm Văn Token", unit, Role.UNITADMIN, (unit,))
    issued = bind(uid)
    client = cert_app.test_client()
    response = login(client, uid)
    assert response.status_code == 302 and response.location.endswith("/login/code")
    page = client.get("/login/code", headers=headers(issued)).get_data(as_text=True)
    assert 'id="certificate-sign-in"' in page and 'id="verify"' not in page  # no TOTP enrolled: no code form
    assert with_certificate(client, issued).status_code == 302
    assert client.get("/mailboxes").status_code == 200  # the certificate is the second factor: no enrolment asked
    assert client.post("/me/token", data={"csrf_token": csrf_token(client, "/me")}).status_code == 302


def test_a_certificate_of_another_account_does_not_finish_a_login(
        cert_app: Flask, person: Callable[..., str], unit: Unit, bind: Callable[[str], f.Issued]) -> None:
    uid = person("Đinh Văn Hai Bước", unit, Role.UNITADMIN, (unit,))
    bind(uid)
    other = bind(person("Lò Thị Người Khác", unit, Role.UNITADMIN, (unit,)))
    client = cert_app.test_client()
    login(client, uid)
    response = with_certificate(client, other)
    assert response.status_code == 401 and "thuộc một tài khoản khác" in text(response)
    assert client.get("/mailboxes").status_code == 302


def test_the_header_is_ignored_from_another_peer(cert_app: Flask, person: Callable[..., str], unit: Unit,
                                                 bind: Callable[[str], f.Issued]) -> None:
    issued = bind(person("Vi Văn Trưởng", unit, Role.SUPERADMIN))
    client = cert_app.test_client()
    response = with_certificate(client, issued, REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 400 and "chưa gửi chứng thư số" in text(response)
    assert 'id="certificate-sign-in"' not in client.get("/login", headers=headers(issued),
                                                        environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_data(as_text=True)
    assert with_certificate(client, issued).status_code == 302  # from the proxy: signed in


def test_a_plain_owner_needs_the_password_first(cert_app: Flask, person: Callable[..., str], unit: Unit,
                                                bind: Callable[[str], f.Issued]) -> None:
    uid = person("Mai Thị Nhân Viên", unit)
    issued = bind(uid)
    response = with_certificate(cert_app.test_client(), issued)
    assert response.status_code == 401 and "đăng nhập bằng mật khẩu trước" in text(response)
    assert login(cert_app.test_client(), uid).location.endswith("/")  # no role: the password alone, as before


def test_the_reason_in_english(cert_app: Flask, ca: tuple[f.Hierarchy, Path], services: Services,
                               person: Callable[..., str], unit: Unit) -> None:
    stranger = cert_for(ca[0].issuing, services.mailboxes.get(person("Hà Văn Lạ", unit)), **VALID)
    client = cert_app.test_client()
    client.get("/lang/en")
    response = with_certificate(client, stranger)
    assert response.status_code == 401 and "this certificate is not bound to any account" in text(response)


def test_the_proxy_verdict_must_be_success(cert_app: Flask, person: Callable[..., str], unit: Unit,
                                           bind: Callable[[str], f.Issued]) -> None:
    issued = bind(person("Ông Văn Kiểm", unit, Role.SUPERADMIN))
    response = with_certificate(cert_app.test_client(), issued, "FAILED:unable to get certificate CRL")
    assert response.status_code == 401 and "unable to get certificate CRL" in text(response)


def test_garbage_in_the_header_is_a_refusal_not_an_error(cert_app: Flask) -> None:
    response = cert_app.test_client().post("/login/certificate", headers={"X-Client-Certificate": "%00%FF(*)",
                                                                          "X-Client-Verify": "SUCCESS"})
    assert response.status_code == 401 and "Không đăng nhập được bằng chứng thư số" in text(response)


def test_refusals_count_in_the_login_throttle(cert_app: Flask, ca: tuple[f.Hierarchy, Path], services: Services,
                                              person: Callable[..., str], unit: Unit) -> None:
    stranger = cert_for(ca[0].issuing, services.mailboxes.get(person("Giáp Văn Thử", unit)), **VALID)
    client = cert_app.test_client()
    statuses = [with_certificate(client, stranger).status_code for _ in range(5)]
    assert statuses == [401] * 4 + [429]
    fingerprint = fingerprint_key(stranger.cert)
    audited = [e for e in services.audit.entries() if e.action == "login.certificate"
               and e.after.get("fingerprint") == fingerprint]
    assert len(audited) == 4 and all(e.after["outcome"] == "refused" for e in audited)


def test_the_dashboard_counts_a_bound_certificate(cert_app: Flask, person: Callable[..., str], unit: Unit,
                                                  bind: Callable[[str], f.Issued]) -> None:
    chief = bind(person("Quang Văn Đếm", unit, Role.SUPERADMIN))
    client = cert_app.test_client()
    assert with_certificate(client, chief).status_code == 302

    def coverage() -> tuple[int, int]:
        found = re.search(r'id="second-factor-coverage">(\d+) / (\d+)<', client.get("/").get_data(as_text=True))
        return int(found.group(1)), int(found.group(2))

    before = coverage()
    bind(person("Kim Thị Được Đếm", unit, Role.UNITADMIN, (unit,)))
    assert coverage() == (before[0] + 1, before[1] + 1)
    audit = text(client.get("/audit?action=login.certificate"))
    assert "Chỉ bằng chứng thư số" in audit and "Thành công" in audit  # the audit log names the codes


def test_certificate_only_roles_need_certificate_sign_in(directory: RunningDirectory) -> None:
    for auth, word in ((Auth(("superadmin",), False, ("superadmin",)), "auth.certificate_sign_in"),
                       (Auth(("superadmin",), True, ("thủ trưởng",)), "thủ trưởng")):
        with pytest.raises(ConfigError, match=word):
            create_app({"TESTING": True}, settings=dataclasses.replace(directory.settings, auth=auth))


def test_a_certificate_bound_during_a_password_only_session_does_not_open_it(
        cert_app: Flask, person: Callable[..., str], unit: Unit, bind: Callable[[str], f.Issued]) -> None:
    uid = person("Lục Văn Chờ Gắn", unit, Role.UNITADMIN, (unit,))
    waiting = cert_app.test_client()
    assert login(waiting, uid).location.endswith("/")  # no second factor yet: in, but only to enrol
    assert waiting.get("/mailboxes").location.endswith("/me/second-factor")
    issued = bind(uid)
    assert waiting.get("/mailboxes").location.endswith("/me/second-factor")  # this session passed nothing
    assert 'id="certificate-factor"' in waiting.get("/me/second-factor").get_data(as_text=True)
    again = cert_app.test_client()
    assert login(again, uid).location.endswith("/login/code")
    assert with_certificate(again, issued).status_code == 302
    assert again.get("/mailboxes").status_code == 200
