"""`mailadmin deploy-config systemd|nginx`: files that systemd-analyze and nginx accept, and an nginx that serves."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port

MAILADMIN_BIN = str(Path(sys.executable).with_name("mailadmin"))
NGINX = "/usr/sbin/nginx"


def deploy(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real console entry point."""
    return subprocess.run([sys.executable, "-m", "mailadmin", "deploy-config", *args], capture_output=True,
                          text=True, env=environ, timeout=60)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A configuration of its own: nothing in it needs a running directory."""
    return {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path / "state"), "MAILADMIN_WEB_PORT": "5100",
            "MAILADMIN_WEB_TRUSTED_PROXY": "127.0.0.1"}


def verify(folder: Path, *units: str) -> None:
    """systemd-analyze verify on the files; no complaint about any of ours."""
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], cwd=folder, capture_output=True,
                            text=True, timeout=120)
    ours = [line for line in result.stderr.splitlines() if "mailadmin" in line]
    assert result.returncode == 0 and ours == [], result.stderr


def test_systemd_units_for_the_private_directory_verify(environ: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "units"
    result = deploy(environ, "systemd", "-o", str(out), "--instances", "3", "--mailadmin-bin", MAILADMIN_BIN)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["mailadmin-slapd.service", "mailadmin-smtpd.service",
                                                     "mailadmin-web@.service", "mailadmin.target"]
    target = (out / "mailadmin.target").read_text()
    assert "mailadmin-web@5100.service mailadmin-web@5101.service mailadmin-web@5102.service" in target
    web = (out / "mailadmin-web@.service").read_text()
    assert f"ExecStart={MAILADMIN_BIN} serve --host 127.0.0.1 --port %i" in web
    assert f'Environment="MAILADMIN_STATE_DIR={tmp_path / "state"}"' in web and "Requires=mailadmin-slapd" in web
    slapd = (out / "mailadmin-slapd.service").read_text()
    assert "Type=forking" in slapd and f"PIDFile={tmp_path / 'state' / 'ldap' / 'slapd.pid'}" in slapd
    verify(out, "mailadmin-slapd.service", "mailadmin-web@5100.service", "mailadmin-web@5102.service",
           "mailadmin-smtpd.service", "mailadmin.target")


def test_with_external_ldap_servers_there_is_no_slapd_unit(environ: dict[str, str], tmp_path: Path) -> None:
    environ = {**environ, "MAILADMIN_LDAP_URIS": "ldaps://ldap1.phuyen.gov.vn,ldaps://ldap2.phuyen.gov.vn"}
    out = tmp_path / "units"
    assert deploy(environ, "systemd", "-o", str(out), "--mailadmin-bin", MAILADMIN_BIN).returncode == 0
    assert not (out / "mailadmin-slapd.service").exists()
    assert "slapd" not in (out / "mailadmin-web@.service").read_text()
    verify(out, "mailadmin-web@5100.service", "mailadmin-smtpd.service", "mailadmin.target")


def test_a_missing_program_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    result = deploy(environ, "systemd", "-o", str(tmp_path / "u"), "--mailadmin-bin", "/nonexistent/mailadmin")
    assert result.returncode == 2 and "Error: /nonexistent/mailadmin is not an executable program" in result.stderr
    assert not (tmp_path / "u").exists() and "Traceback" not in result.stderr


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for `name` (and 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).add_extension(san, critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "site.crt", folder / "site.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def nginx_conf(prefix: Path, site: Path) -> Path:
    """A minimal nginx.conf of the test's own that includes the generated site."""
    conf = prefix / "nginx.conf"
    conf.write_text(f"""pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
""")
    return conf


def site(environ: dict[str, str], tmp_path: Path, *args: str) -> tuple[Path, str]:
    """Render the nginx site with a self-signed certificate; its file and text."""
    cert, key = self_signed(tmp_path, "quantri.phuyen.gov.vn")
    out = tmp_path / "nginx"
    result = deploy(environ, "nginx", "-o", str(out), "--server-name", "quantri.phuyen.gov.vn",
                    "--tls-cert", str(cert), "--tls-key", str(key), *args)
    assert result.returncode == 0, result.stderr
    return out / "mailadmin.conf", (out / "mailadmin.conf").read_text()


def test_nginx_site_passes_nginx_t(environ: dict[str, str], tmp_path: Path) -> None:
    path, text = site(environ, tmp_path, "--instances", "2")
    assert "server 127.0.0.1:5100" in text and "server 127.0.0.1:5101" in text
    assert 'Strict-Transport-Security "max-age=63072000; includeSubDomains" always' in text
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    # Certificate sign-in is off: no certificate is asked for, and a client's own header never passes.
    assert "ssl_verify_client" not in text and "proxy_set_header X-Client-Certificate $ssl_client_escaped_cert;" in text
    checked = subprocess.run([NGINX, "-t", "-c", str(nginx_conf(tmp_path, path))], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0 and "test is successful" in checked.stderr, checked.stderr


def test_without_a_trusted_proxy_the_site_comes_with_a_warning(environ: dict[str, str], tmp_path: Path) -> None:
    environ = {**environ, "MAILADMIN_WEB_TRUSTED_PROXY": ""}
    result = deploy(environ, "nginx", "-o", str(tmp_path / "n"))
    assert result.returncode == 0, result.stderr
    assert "Cảnh báo:" in result.stderr and "Warning: web.trusted_proxy is empty" in result.stderr


@contextmanager
def behind_nginx(environ: dict[str, str], tmp_path: Path, web_port: int, https_port: int) -> Iterator[str]:
    """`mailadmin serve` on `web_port` behind a real nginx (the generated site) on `https_port`; the site's text.

    Both are processes of this test, stopped by their PID.
    """
    path, text = site(environ, tmp_path, "--instances", "1", "--listen-address", "127.0.0.1",
                      "--https-port", str(https_port), "--http-port", "0")
    with mailadmin_process("serve", environ=environ) as web:
        wait_for_port(web_port, web)
        server = subprocess.Popen([NGINX, "-c", str(nginx_conf(tmp_path, path)), "-g", "daemon off;"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_port(https_port, server)
            yield text
        finally:
            server.terminate()
            server.communicate(timeout=30)


@pytest.fixture
def nginx(tmp_path: Path, directory: RunningDirectory) -> Iterator[int]:
    """A real nginx on loopback with the generated site, in front of a real `mailadmin serve`; its HTTPS port."""
    web_port, https_port = free_port(), free_port()
    environ = child_environ(directory, web_port=str(web_port), web_trusted_proxy="127.0.0.1")
    with behind_nginx(environ, tmp_path, web_port, https_port):
        yield https_port


def fetch(port: int, path: str) -> tuple[int, dict[str, str]]:
    """GET over HTTPS trusting the test's own certificate; status and headers."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the test's self-signed site
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=context, timeout=60) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_nginx_serves_the_web_admin_over_https_and_keeps_metrics_inside(nginx: int) -> None:
    status, headers = fetch(nginx, "/healthz")
    assert status == 200 and headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert fetch(nginx, "/login")[0] == 200
    assert fetch(nginx, "/metrics")[0] == 403


def test_nginx_site_with_certificate_sign_in_passes_nginx_t(environ: dict[str, str], tmp_path: Path) -> None:
    from tests.certs import factory as f

    gov = f.hierarchy()
    anchors, crl = tmp_path / "anchors.pem", tmp_path / "issuing.crl"
    anchors.write_bytes(f.pem(gov.root.cert, gov.issuing.cert))
    crl.write_bytes(f.crl(gov.issuing, [12345]).public_bytes(serialization.Encoding.DER))  # DER: nginx gets PEM
    environ = {**environ, "MAILADMIN_AUTH_CERTIFICATE_SIGN_IN": "true",
               "MAILADMIN_CERTIFICATES_TRUST_ANCHORS": str(anchors), "MAILADMIN_CERTIFICATES_CRL_FILES": str(crl)}
    path, text = site(environ, tmp_path)
    folder = path.parent
    for line in (f"ssl_client_certificate {folder / 'mailadmin-client-ca.pem'};", "ssl_verify_client optional;",
                 "ssl_verify_depth 3;", f"ssl_crl {folder / 'mailadmin-client-crl.pem'};",
                 "error_page 495 = @certificate_refused;", "proxy_set_header X-Client-Verify $ssl_client_verify;"):
        assert line in text, line
    bundle = x509.load_pem_x509_certificates((folder / "mailadmin-client-ca.pem").read_bytes())
    assert bundle == [gov.root.cert, gov.issuing.cert]
    assert x509.load_pem_x509_crl((folder / "mailadmin-client-crl.pem").read_bytes()).issuer == gov.issuing.cert.subject
    checked = subprocess.run([NGINX, "-t", "-c", str(nginx_conf(tmp_path, path))], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0 and "test is successful" in checked.stderr, checked.stderr


def test_certificate_sign_in_without_trust_anchors_is_a_configuration_error(environ: dict[str, str],
                                                                            tmp_path: Path) -> None:
    environ = {**environ, "MAILADMIN_AUTH_CERTIFICATE_SIGN_IN": "true",
               "MAILADMIN_CERTIFICATES_TRUST_ANCHORS": str(tmp_path / "none")}
    result = deploy(environ, "nginx", "-o", str(tmp_path / "n"))
    assert result.returncode == 8 and "Trust anchor file or folder not found" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "n").exists()
