"""Certificate pages over HTTP: upload, refusal reasons, scope, self-service, details, unbind with confirmation."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.certs.info import fingerprint_sha256
from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.certs.helpers import cert_for
from tests.web.conftest import csrf_token, login

TODAY = datetime.now(UTC)
AROUND_TODAY = {"not_before": TODAY - timedelta(days=30), "not_after": TODAY + timedelta(days=3 * 365)}


@pytest.fixture(scope="module")
def live_gov() -> f.Hierarchy:
    """A government root and issuing CA valid around the real clock (the web has no fixed clock)."""
    root = f.root_ca(**AROUND_TODAY)
    return f.Hierarchy(root, f.sub_ca(root, **AROUND_TODAY), [root.cert])


@pytest.fixture(autouse=True)
def trusted(tmp_path: Path, live_gov: f.Hierarchy, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app trusts the test root through MAILADMIN_TRUST_ANCHORS (read when first needed)."""
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(f.pem(live_gov.root.cert))
    monkeypatch.setenv("MAILADMIN_TRUST_ANCHORS", str(bundle))


def upload(client: FlaskClient, uid: str, data: bytes, *, back: str = "", token_page: str | None = None,
           name: str = "chu-ky.pem"):
    token = csrf_token(client, token_page or f"/mailboxes/{uid}")
    return client.post(f"/certificates/{uid}/upload", data={"csrf_token": token, "back": back,
                                                            "certificate": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def chain_pem(gov: f.Hierarchy, services: Services, uid: str, **options) -> tuple[bytes, str]:
    """The PEM of a signing certificate for the mailbox (with its issuing CA) and its fingerprint."""
    issued = cert_for(gov.issuing, services.mailboxes.get(uid), **{**AROUND_TODAY, **options})
    return f.pem(issued.cert, gov.issuing.cert), fingerprint_sha256(issued.cert)


def test_admin_uploads_a_valid_certificate_and_it_is_listed(admin_client: FlaskClient, person: Callable[..., str],
                                                            unit: Unit, services: Services,
                                                            live_gov: f.Hierarchy) -> None:
    uid = person("Nguyễn Văn Ký", unit)
    data, fingerprint = chain_pem(live_gov, services, uid)
    page = upload(admin_client, uid, data).get_data(as_text=True)
    assert fingerprint in page and "CA phục vụ các cơ quan Nhà nước G2" in page
    assert 'data-status="valid"' in page and "Ký số" in page
    assert [b.info.fingerprint_sha256 for b in services.certificates.show(uid)] == [fingerprint]
    details = admin_client.get(f"/certificates/{uid}/{fingerprint}").get_data(as_text=True)
    assert fingerprint in details and "Nguyễn Văn Ký" in details and "Chống chối bỏ" in details
    assert _audited(services, "certificate.bind", uid)


def test_invalid_uploads_show_the_reason_and_write_nothing(admin_client: FlaskClient, person: Callable[..., str],
                                                           unit: Unit, services: Services,
                                                           live_gov: f.Hierarchy) -> None:
    uid = person("Trần Thị Hết Hạn", unit)
    expired, _ = chain_pem(live_gov, services, uid, not_before=TODAY - timedelta(days=400),
                           not_after=TODAY - timedelta(days=2))
    page = upload(admin_client, uid, expired).get_data(as_text=True)
    assert "Không gắn được chứng thư số" in page and "hết hạn" in page
    page = upload(admin_client, uid, b"\x30\x82garbage").get_data(as_text=True)
    assert 'class="flash error"' in page
    page = upload(admin_client, uid, b"-" * (300 * 1024)).get_data(as_text=True)
    assert "quá lớn" in page and "tối đa 262144 byte" in page  # read one byte past the limit, then refused
    untrusted_root = f.root_ca(**AROUND_TODAY)
    stranger = cert_for(untrusted_root, services.mailboxes.get(uid), **AROUND_TODAY)
    assert 'class="flash error"' in upload(admin_client, uid, f.pem(stranger.cert)).get_data(as_text=True)
    assert services.certificates.show(uid) == []
    assert services.mailboxes.get(uid).certificates == ()


def test_refusal_reason_in_english(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                   services: Services, live_gov: f.Hierarchy) -> None:
    uid = person("Lê Văn Tiếng Anh", unit)
    admin_client.get("/lang/en")
    wrong_usage, _ = chain_pem(live_gov, services, uid, usage=f.key_usage(key_encipherment=True))
    page = upload(admin_client, uid, wrong_usage).get_data(as_text=True)
    assert "The certificate was not bound" in page and "Upload a certificate" in page
    assert services.certificates.show(uid) == []


def test_admin_of_another_unit_is_refused(app: Flask, person: Callable[..., str], unit: Unit, other_unit: Unit,
                                          services: Services, live_gov: f.Hierarchy) -> None:
    uid = person("Phạm Văn Khác", unit)
    data, fingerprint = chain_pem(live_gov, services, uid)
    services.certificates.bind(uid, data)
    stranger = app.test_client()
    login(stranger, person("Quản Trị Khác", other_unit, Role.UNITADMIN, (other_unit,)))
    token = csrf_token(stranger, "/me")
    response = stranger.post(f"/certificates/{uid}/upload", data={
        "csrf_token": token, "certificate": (io.BytesIO(data), "x.pem")}, content_type="multipart/form-data")
    assert response.status_code == 403
    assert stranger.get(f"/certificates/{uid}/{fingerprint}").status_code == 403
    assert stranger.post(f"/certificates/{uid}/{fingerprint}/unbind",
                         data={"csrf_token": token, "confirm": "yes"}).status_code == 403
    assert len(services.certificates.show(uid)) == 1


def test_owner_uploads_in_self_service(app: Flask, person: Callable[..., str], unit: Unit, services: Services,
                                       live_gov: f.Hierarchy) -> None:
    uid = person("Võ Thị Tự Làm", unit)
    owner = app.test_client()
    login(owner, uid)
    assert 'id="upload-certificate"' in owner.get("/me").get_data(as_text=True)
    data, fingerprint = chain_pem(live_gov, services, uid)
    page = upload(owner, uid, data, back="me", token_page="/me").get_data(as_text=True)
    assert 'id="me"' in page and fingerprint in page  # back on /me, the certificate listed
    assert [b.uid for b in services.certificates.show(uid)] == [uid]
    assert owner.get(f"/certificates/{uid}/{fingerprint}?back=me").status_code == 200
    other = person("Người Bên Cạnh", unit)
    assert upload_status(owner, other, data) == 403  # another person's mailbox: no role, no access


def upload_status(client: FlaskClient, uid: str, data: bytes) -> int:
    token = csrf_token(client, "/me")
    return client.post(f"/certificates/{uid}/upload", data={"csrf_token": token,
                                                            "certificate": (io.BytesIO(data), "x.pem")},
                       content_type="multipart/form-data").status_code


def test_unbind_needs_confirmation_and_csrf(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                            services: Services, live_gov: f.Hierarchy) -> None:
    uid = person("Đặng Văn Gỡ", unit)
    data, fingerprint = chain_pem(live_gov, services, uid)
    services.certificates.bind(uid, data)
    url = f"/certificates/{uid}/{fingerprint}/unbind"
    confirm = admin_client.get(url).get_data(as_text=True)
    assert 'id="confirm-unbind"' in confirm and fingerprint in confirm
    assert admin_client.post(url, data={"confirm": "yes"}).status_code == 400  # no CSRF token
    token = csrf_token(admin_client, url)
    assert admin_client.post(url, data={"csrf_token": token}).status_code == 200  # no confirmation: asked again
    assert len(services.certificates.show(uid)) == 1
    page = admin_client.post(url, data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert 'id="no-certificates"' in page.get_data(as_text=True)
    assert services.certificates.show(uid) == []
    assert _audited(services, "certificate.unbind", uid)


def _audited(services: Services, action: str, uid: str) -> bool:
    return any(e.action == action and e.target == uid and e.actor.startswith("web:")
               for e in services.audit.entries())
