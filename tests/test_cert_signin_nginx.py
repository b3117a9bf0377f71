"""Certificate sign-in, every part real: nginx with TLS client authentication (the site `deploy-config nginx`
renders), `mailadmin serve`, slapd, a test CA made with cryptography, client certificates sent by Python's ssl."""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import re
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mailadmin.model import Mailbox, Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.certs.helpers import cert_for, certificate_service
from tests.conftest import RunningDirectory, child_environ, free_port
from tests.test_deploy import behind_nginx
from tests.web.conftest import PASSWORD

NOW = datetime.now(UTC)
VALID = {"not_before": NOW - timedelta(days=1), "not_after": NOW + timedelta(days=365)}
CA_VALID = {"not_before": NOW - timedelta(days=500), "not_after": NOW + timedelta(days=3650)}
# The browsers' address: refusals count in the throttle file of the session's state folder, per client
# address; other tests' logins come from 127.0.0.1.
CLIENT = "127.0.0.3"
CASES = ("official", "chief", "unbound", "expired", "revoked")


@dataclass(frozen=True)
class World:
    """Ports, the two role holders and the client certificate files of each case."""

    https_port: int
    web_port: int
    official: str  # a unit admin: the bound certificate is the second factor after the password
    chief: str  # a super admin: certificate only (auth.certificate_only_roles)
    certs: dict[str, tuple[Path, Path]]  # case -> (certificate PEM, key PEM)


def make_ca(folder: Path) -> tuple[f.Hierarchy, Path]:
    """Root → issuing CA valid now, both trust anchors (nginx passes on the official's certificate alone)."""
    root = f.root_ca(**CA_VALID)
    issuing = f.sub_ca(root, **CA_VALID)
    anchors = folder / "anchors"
    anchors.mkdir()
    (anchors / "root.pem").write_bytes(f.pem(root.cert))
    (anchors / "issuing.pem").write_bytes(f.pem(issuing.cert))
    return f.Hierarchy(root, issuing, [root.cert, issuing.cert]), anchors


def write_crls(folder: Path, gov: f.Hierarchy, revoked: int) -> str:
    """CRLs of both CAs (nginx checks every level of the path), the revoked serial in the issuing CA's."""
    dates = {"this_update": NOW - timedelta(hours=1), "next_update": NOW + timedelta(days=7)}
    paths = []
    for name, issuer, serials in (("issuing", gov.issuing, [revoked]), ("root", gov.root, [])):
        path = folder / f"{name}.crl"
        path.write_bytes(f.crl(issuer, serials, **dates).public_bytes(serialization.Encoding.PEM))
        paths.append(str(path))
    return ",".join(paths)


def write_pair(folder: Path, name: str, issued: f.Issued) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    cert.write_bytes(f.pem(issued.cert))
    key.write_bytes(issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return cert, key


def role_holder(services: Services, unit: Unit, name: str, role: Role) -> Mailbox:
    """A mailbox with the test password (no forced change) and a role over `unit`."""
    mailbox = services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, password=PASSWORD)).mailbox
    dn = services.mailboxes.store.find_entry(mailbox.uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({role}), (unit.path,) if role is Role.UNITADMIN else ())
    return mailbox


def issue_and_bind(services: Services, unit: Unit, gov: f.Hierarchy,
                   anchors: Path) -> tuple[Mailbox, Mailbox, dict[str, f.Issued]]:
    """The official's bound certificates (valid, expired, soon revoked), the chief's, and an unbound one."""
    official = role_holder(services, unit, "Nguyễn Văn Chứng", Role.UNITADMIN)
    chief = role_holder(services, unit, "Trần Thị Chỉ Huy", Role.SUPERADMIN)
    expired = {"not_before": NOW - timedelta(days=400), "not_after": NOW - timedelta(days=2)}
    issued = {case: cert_for(gov.issuing, official, **VALID) for case in ("official", "unbound", "revoked")}
    issued["expired"] = cert_for(gov.issuing, official, **expired)
    issued["chief"] = cert_for(gov.issuing, chief, **VALID)
    binder = certificate_service(services, trust_anchors=str(anchors))
    for case, owner in (("official", official), ("chief", chief), ("revoked", official)):
        binder.bind(owner.uid, f.pem(issued[case].cert))
    binder.bind(official.uid, f.pem(issued["expired"].cert), now=NOW - timedelta(days=10))  # bound while valid
    return official, chief, issued


@pytest.fixture
def world(tmp_path: Path, directory: RunningDirectory, services: Services, unit: Unit) -> Iterator[World]:
    """nginx (the generated site) on a free loopback port in front of `mailadmin serve`, both stopped by PID."""
    gov, anchors = make_ca(tmp_path)
    official, chief, issued = issue_and_bind(services, unit, gov, anchors)
    web_port, https_port = free_port(), free_port()
    environ = child_environ(directory, web_port=str(web_port), web_trusted_proxy="127.0.0.1",
                            auth_second_factor_roles="superadmin,unitadmin", auth_certificate_sign_in="true",
                            auth_certificate_only_roles="superadmin", certificates_trust_anchors=str(anchors),
                            certificates_crl_files=write_crls(tmp_path, gov, issued["revoked"].cert.serial_number))
    certs = {case: write_pair(tmp_path, case, issued[case]) for case in CASES}
    with behind_nginx(environ, tmp_path, web_port, https_port) as text:
        assert "ssl_verify_client optional;" in text and "ssl_crl " in text
        yield World(https_port, web_port, official.uid, chief.uid, certs)


class FromClient(urllib.request.HTTPSHandler):
    """HTTPS from CLIENT's address."""

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(http.client.HTTPSConnection, source_address=(CLIENT, 0),
                                              context=self._context), req)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """HTTPS through nginx with cookies and, if given, a client certificate; redirects are not followed."""

    def __init__(self, port: int, cert: tuple[Path, Path] | None = None) -> None:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the test's self-signed site
        if cert is not None:
            context.load_cert_chain(*cert)
        self.base = f"https://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(FromClient(context=context), NoRedirect,
                                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def send(self, path: str, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of a GET, or of a POST when `form` is given."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        # A browser's Referer: Flask-WTF checks it on HTTPS (nginx's X-Forwarded-Proto)
        request = urllib.request.Request(self.base + path, data=data,
                                         headers={"Referer": f"{self.base}/login", **(headers or {})})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str = "/login") -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.send(path)[2]).group(1)

    def password(self, uid: str) -> tuple[int, str, str]:
        return self.send("/login", {"username": uid, "password": PASSWORD, "csrf_token": self.csrf()})

    def certificate(self) -> tuple[int, str, str]:
        return self.send("/login/certificate", {})


def refusal(body: str) -> str:
    """The flashed reason on the page (Vietnamese: the default language)."""
    return re.sub(r"\s+", " ", body)


def test_a_bound_official_signs_in_with_password_then_certificate(world: World, services: Services) -> None:
    browser = Browser(world.https_port, world.certs["official"])
    assert 'id="certificate-sign-in"' in browser.send("/login")[2]
    status, location, _ = browser.password(world.official)
    assert status == 302 and location.endswith("/login/code")
    assert browser.send("/mailboxes")[0] == 302  # the password alone is no login
    status, location, _ = browser.certificate()
    assert status == 302 and location.endswith("/")
    assert browser.send("/mailboxes")[0] == 200
    entries = [e for e in services.audit.entries() if e.action == "login.certificate" and e.target == world.official]
    assert entries and entries[-1].after["outcome"] == "ok" and entries[-1].after["step"] == "second_factor"


def test_a_certificate_only_role_signs_in_without_password(world: World) -> None:
    browser = Browser(world.https_port, world.certs["chief"])
    status, location, _ = browser.certificate()
    assert status == 302 and location.endswith("/")
    assert browser.send("/")[0] == 200
    cert, key = world.certs["chief"]
    curl = subprocess.run(["curl", "--silent", "--insecure", "--interface", CLIENT, "--cert", str(cert),
                           "--key", str(key), "--request", "POST", "--output", "/dev/null",
                           "--write-out", "%{http_code} %{redirect_url}",
                           f"https://127.0.0.1:{world.https_port}/login/certificate"],
                          capture_output=True, text=True, timeout=60)
    assert curl.stdout == f"302 https://127.0.0.1:{world.https_port}/", curl.stderr
    status, _, body = Browser(world.https_port).password(world.chief)  # the password is not their way in
    assert status == 403 and "bằng chứng thư số" in body


@pytest.mark.parametrize(("case", "reason"), [
    ("unbound", "chưa được gắn với tài khoản nào"),
    ("expired", "đã hết hạn"),
    ("revoked", "đã bị"),
])
def test_refused_certificates_say_why(world: World, services: Services, case: str, reason: str) -> None:
    browser = Browser(world.https_port, world.certs[case])
    status, _, body = browser.certificate()
    assert status == 401 and reason in refusal(body) and "Không đăng nhập được bằng chứng thư số" in body
    assert browser.send("/me")[0] == 302
    last = [e for e in services.audit.entries() if e.action == "login.certificate"][-1]
    assert last.after["outcome"] == "refused"


def test_the_header_counts_only_from_the_trusted_proxy(world: World) -> None:
    pem = world.certs["chief"][0].read_text()
    headers = {"X-Client-Certificate": urllib.parse.quote(pem), "X-Client-Verify": "SUCCESS",
               "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": "127.0.0.1"}

    def direct(source: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", world.web_port, timeout=60, source_address=(source, 0))
        try:
            connection.request("POST", "/login/certificate", body="", headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    assert direct("127.0.0.2") == 400  # not the proxy's address: the header is ignored
    assert direct("127.0.0.1") == 302  # the same request from the proxy's address signs in
    status, _, body = Browser(world.https_port).send("/login/certificate", {}, headers)  # nginx drops it
    assert status == 400 and "chưa gửi chứng thư số" in body
