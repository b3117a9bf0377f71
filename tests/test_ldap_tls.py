"""Verified TLS to the directory: a real slapd with a test CA's certificate, the CLI and web as clients.

The slapd here refuses simple binds without TLS (slapd.require_tls), so every test that works
also proves that no password went out in clear.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mailadmin.directory import dit
from mailadmin.mailserver.generate import generate
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.setup import initialise
from mailadmin.slapd import SlapdPaths
from mailadmin.smtp.config import mail_routing, smtp_config
from tests.certs.factory import Issued, new_key, root_ca
from tests.conftest import (
    RunningDirectory,
    child_environ,
    free_port,
    mailadmin_process,
    make_agency,
    make_settings,
    wait_for_port,
)
from tests.mailserver.servers import POSTMAP, imap_logs_in, postmap, shared_folder
from tests.smtp.conftest import PASSWORD as SMTP_PASSWORD
from tests.smtp.conftest import new_mailbox, start_smtpd
from tests.web.conftest import PASSWORD
from tests.web.test_serve import request

NOW = datetime.now(UTC)
LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


@dataclass(frozen=True)
class Material:
    """PEM files: the CA clients trust, another CA, and server certificates with their keys."""

    ca: Path
    other_ca: Path
    folder: Path

    def pair(self, name: str) -> tuple[str, str]:
        return str(self.folder / f"{name}.crt"), str(self.folder / f"{name}.key")


def server_certificate(issuer: Issued, names: list[x509.GeneralName], *, expired: bool = False) -> Issued:
    """A TLS server certificate for `names`, valid now unless `expired`."""
    key = new_key()
    end = NOW - timedelta(days=1) if expired else NOW + timedelta(days=30)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "thư mục LDAP thử nghiệm")]))
               .issuer_name(issuer.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(NOW - timedelta(days=60)).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def write_pair(folder: Path, name: str, issued: Issued) -> None:
    (folder / f"{name}.crt").write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    key = issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    (folder / f"{name}.key").write_bytes(key)
    (folder / f"{name}.key").chmod(0o600)


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    folder = tmp_path_factory.mktemp("tls")
    valid = {"not_before": NOW - timedelta(days=365), "not_after": NOW + timedelta(days=365)}
    ca, other = root_ca("CA thử nghiệm thư mục", **valid), root_ca("CA lạ", **valid)
    write_pair(folder, "ca", ca)
    write_pair(folder, "other-ca", other)
    write_pair(folder, "server", server_certificate(ca, [LOOPBACK]))
    write_pair(folder, "expired", server_certificate(ca, [LOOPBACK], expired=True))
    return Material(folder / "ca.crt", folder / "other-ca.crt", folder)


def tls_settings(material: Material, pair: str, state: Path) -> dict[str, str]:
    cert, key = material.pair(pair)
    return {"MAILADMIN_SLAPD_TLS_CERT_FILE": cert, "MAILADMIN_SLAPD_TLS_KEY_FILE": key,
            "MAILADMIN_SLAPD_TLS_PORT": str(free_port()), "MAILADMIN_SLAPD_REQUIRE_TLS": "true",
            "MAILADMIN_LDAP_CA_FILE": str(material.ca), "MAILADMIN_LDAP_START_TLS": "true"}


@pytest.fixture(scope="module")
def tls_directory(material: Material, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDirectory]:
    """A slapd with the CA's certificate for 127.0.0.1, plain binds refused; units loaded over StartTLS."""
    state = tmp_path_factory.mktemp("tls-state")
    running = RunningDirectory(make_settings(state, **tls_settings(material, "server", state)), load_units=False)
    try:
        initialise(running.services)
        yield running
    finally:
        running.stop()


def external(directory: RunningDirectory, uri: str, ca_file: Path | str, start_tls: bool = False) -> dict[str, str]:
    """A child environment that reaches `directory` as production does: ldap.uris and the service account."""
    settings = directory.settings
    return child_environ(directory, ldap_uris=uri, ldap_bind_dn=dit.service_dn(settings.organisation.base_dn),
                         ldap_bind_password_file=str(SlapdPaths.of(settings).service_password),
                         ldap_ca_file=str(ca_file), ldap_start_tls="true" if start_tls else "false")


def run(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    with mailadmin_process(*args, environ=environ) as process:
        out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def plain_uri(directory: RunningDirectory) -> str:
    return f"ldap://127.0.0.1:{directory.settings.slapd.port}"


def ldaps_uri(directory: RunningDirectory, host: str = "127.0.0.1") -> str:
    return f"ldaps://{host}:{directory.settings.slapd.tls_port}"


def test_the_server_refuses_a_plain_bind(tls_directory: RunningDirectory) -> None:
    settings = tls_directory.settings
    plain = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", plain_uri(tls_directory),
                            "-D", dit.service_dn(settings.organisation.base_dn),
                            "-y", str(SlapdPaths.of(settings).service_password),
                            "-b", settings.organisation.base_dn, "-s", "base", "1.1"],
                           capture_output=True, text=True, check=False)
    assert plain.returncode == 13 and "Confidentiality required" in plain.stderr, plain.stderr


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_cli_works_over_verified_tls(tls_directory: RunningDirectory, material: Material, transport: str) -> None:
    uri = ldaps_uri(tls_directory) if transport == "ldaps" else plain_uri(tls_directory)
    environ = external(tls_directory, uri, material.ca, start_tls=transport == "starttls")
    units = run(environ, "units", "list", "--json")
    assert units.returncode == 0, units.stderr
    assert any(unit["code"] == "555" for unit in json.loads(units.stdout))
    added = run(environ, "mailbox", "add", f"Mã Hoá {transport.title()}", "--unit", "555", "--json")
    assert added.returncode == 0, added.stderr


def test_the_embedded_directory_uses_starttls_too(tls_directory: RunningDirectory, material: Material) -> None:
    stats = run(child_environ(tls_directory, ldap_ca_file=str(material.ca), ldap_start_tls="true"), "stats", "--json")
    assert stats.returncode == 0, stats.stderr


def assert_refused_certificate(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr
    assert "không xác minh được" in result.stderr and "does not verify" in result.stderr, result.stderr
    assert why in result.stderr, result.stderr


@pytest.mark.parametrize("transport", ["ldaps", "starttls"])
def test_a_certificate_from_an_unknown_ca_is_refused(tls_directory: RunningDirectory, material: Material,
                                                     transport: str) -> None:
    uri = ldaps_uri(tls_directory) if transport == "ldaps" else plain_uri(tls_directory)
    for ca_file in (material.other_ca, ""):  # another CA, and the system's CAs (the default)
        result = run(external(tls_directory, uri, ca_file, start_tls=transport == "starttls"), "units", "list")
        assert_refused_certificate(result, "unable to get local issuer certificate")


def test_a_certificate_for_another_host_name_is_refused(tls_directory: RunningDirectory, material: Material) -> None:
    # The certificate names 127.0.0.1 only: the same server reached as "localhost" is not the one it names.
    result = run(external(tls_directory, ldaps_uri(tls_directory, "localhost"), material.ca), "units", "list")
    assert_refused_certificate(result, "Hostname mismatch")


def test_an_expired_certificate_is_refused(material: Material, tmp_path: Path) -> None:
    running = RunningDirectory(make_settings(tmp_path, **tls_settings(material, "expired", tmp_path)),
                               load_units=False)
    try:
        result = run(external(running, ldaps_uri(running), material.ca), "units", "list")
        assert_refused_certificate(result, "certificate has expired")
        result = run(external(running, plain_uri(running), material.ca, start_tls=True), "units", "list")
        assert_refused_certificate(result, "certificate has expired")
    finally:
        running.stop()


def test_an_unreadable_ca_file_is_a_config_error(tls_directory: RunningDirectory, tmp_path: Path) -> None:
    result = run(external(tls_directory, ldaps_uri(tls_directory), tmp_path / "missing.pem"), "units", "list")
    assert result.returncode == 8 and "Traceback" not in result.stderr
    assert "ldap.ca_file" in result.stderr and "missing.pem" in result.stderr, result.stderr


def test_the_web_answers_503_when_the_certificate_does_not_verify(tls_directory: RunningDirectory,
                                                                  material: Material) -> None:
    port = free_port()
    environ = external(tls_directory, ldaps_uri(tls_directory), material.other_ca)
    with mailadmin_process("serve", "--port", str(port), environ=environ) as process:
        wait_for_port(port, process)
        status, headers, page = request(port, "GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _, page = request(port, "POST", "/login", f"username=annv&password=x&csrf_token={token}", {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": headers["set-cookie"].split(";")[0]})
    assert status == 503, page
    assert "không xác minh được" in page or "does not verify" in page


def test_the_web_logs_in_and_lists_over_starttls(tls_directory: RunningDirectory, material: Material) -> None:
    services = tls_directory.services
    created = services.mailboxes.add(NewMailbox(full_name="Quản Trị Mã Hoá", unit_code="555", password=PASSWORD))
    uid = created.mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    port = free_port()
    environ = child_environ(tls_directory, ldap_ca_file=str(material.ca), ldap_start_tls="true")
    with mailadmin_process("serve", "--port", str(port), environ=environ) as process:
        wait_for_port(port, process)
        status, headers, page = request(port, "GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, headers, _ = request(port, "POST", "/login", f"username={uid}&password={PASSWORD}&csrf_token={token}", {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": headers["set-cookie"].split(";")[0]})
        assert status == 302, headers
        cookie = headers["set-cookie"].split(";")[0]
        status, _, page = request(port, "GET", "/mailboxes?unit=555", headers={"Cookie": cookie})
    assert status == 200 and "Quản Trị Mã Hoá" in page


def test_smtp_auth_checks_passwords_over_starttls(tls_directory: RunningDirectory, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    config = dataclasses.replace(smtp_config(tls_directory.settings), port=0, submission_port=0, spool=spool,
                                 tls_cert=tmp_path / "tls.crt", tls_key=tmp_path / "tls.key")
    routing = mail_routing(tls_directory.settings)
    thread, running = start_smtpd(config, routing)
    try:
        uid, _ = new_mailbox(tls_directory.services, make_agency(tls_directory.services, "S", "Thư TLS"), "Gửi Thư An")
        with running.submission() as client:
            assert client.login(uid, SMTP_PASSWORD)[0] == 235
    finally:
        thread.stop()
        routing.close()


def test_postfix_looks_up_over_verified_starttls(tls_directory: RunningDirectory, material: Material,
                                                 tmp_path: Path) -> None:
    settings = dataclasses.replace(tls_directory.settings, smtp=dataclasses.replace(
        tls_directory.settings.smtp, spool_dir=str(tmp_path / "mail")))
    out = tmp_path / "postfix"
    generate(settings, tls_directory.services.client, "postfix", out, mail_user="nobody")
    assert "start_tls = yes" in (out / "ldap-virtual-mailbox-maps.cf").read_text()
    uid, mail = new_mailbox(tls_directory.services, make_agency(tls_directory.services, "P", "Postfix TLS"),
                            "Tra Cứu Mã Hoá")
    assert postmap(out, "ldap-virtual-mailbox-maps.cf", mail) == f"{uid}/"
    table = out / "ldap-virtual-mailbox-maps.cf"  # the same table trusting another CA: no answer, no fallback
    table.write_text(table.read_text().replace(str(material.ca), str(material.other_ca)))
    refused = subprocess.run([POSTMAP, "-c", str(out), "-q", mail, f"ldap:{table}"], capture_output=True, text=True,
                             check=False)
    assert refused.returncode != 0 and not refused.stdout and "Unable to set STARTTLS" in refused.stderr


@pytest.fixture
def readable_folder() -> Iterator[Path]:
    """A folder Dovecot's unprivileged processes may read (pytest's tmp folders are 0700)."""
    if os.geteuid() != 0:
        pytest.skip("the private Dovecot must run as root to switch to the mail user (CI runs as root)")
    folder = shared_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_dovecot_logs_in_over_verified_starttls(tls_directory: RunningDirectory, material: Material,
                                                readable_folder: Path) -> None:
    ca = readable_folder / "ca.crt"
    shutil.copy(material.ca, ca)
    ca.chmod(0o644)
    spool = readable_folder / "mail"
    spool.mkdir(mode=0o1777)
    spool.chmod(0o1777)
    settings = dataclasses.replace(tls_directory.settings,
                                   ldap=dataclasses.replace(tls_directory.settings.ldap, ca_file=str(ca)),
                                   smtp=dataclasses.replace(tls_directory.settings.smtp, spool_dir=str(spool)))
    generated = readable_folder / "dovecot-conf"
    generate(settings, tls_directory.services.client, "dovecot", generated, mail_user="nobody")
    uid, _ = new_mailbox(tls_directory.services, make_agency(tls_directory.services, "D", "Dovecot TLS"),
                         "Đọc Thư Mã Hoá")
    assert imap_logs_in(readable_folder / "dovecot", generated, uid, SMTP_PASSWORD)


def test_tls_settings_are_checked(tls_directory: RunningDirectory, tmp_path: Path) -> None:
    result = run(child_environ(tls_directory, ldap_start_tls="maybe"), "units", "list")
    assert result.returncode == 8 and "ldap.start_tls" in result.stderr and "Traceback" not in result.stderr
    alone = run({**child_environ(tls_directory), "MAILADMIN_STATE_DIR": str(tmp_path / "state"),
                 "MAILADMIN_SLAPD_PORT": str(free_port()), "MAILADMIN_SLAPD_REQUIRE_TLS": "yes"}, "directory", "start")
    assert alone.returncode == 8 and "slapd.tls_cert_file" in alone.stderr, alone.stderr


def test_large_pipelined_writes_over_starttls_never_stall(tls_directory: RunningDirectory) -> None:
    """Thousands of big adds pipelined over one TLS connection: the reader never waits for the sender.

    The reader used to take the sender's lock to answer TLS records; a sender blocked on a full TCP
    window (the server waiting for us to read its answers) then held the reader until the receive
    timeout: the whole batch failed with 'no response from server' (twice in full suite runs).
    """
    client = tls_directory.services.client
    base = f"ou=stall,{client.base_dn}"
    client.add(base, {"objectClass": ["organizationalUnit"], "ou": ["stall"]})
    entries = [(f"cn=s{n},{base}", {"objectClass": ["organizationalRole"], "cn": [f"s{n}"],
                                    "description": [f"{n} " + "ư" * 6000]}) for n in range(1500)]
    assert client.add_many(entries, batch_size=500) == []
    assert client.count(base, "(objectClass=organizationalRole)") == 1500
