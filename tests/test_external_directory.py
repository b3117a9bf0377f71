"""Acceptance: a cn=config slapd built the Debian way, prepared only by `directory prepare --external`.

Then `directory check` passes, a second prepare changes nothing, and mailadmin pointed at it serves
the web admin, imports, grants the first super admin, and real Postfix (postmap) and Dovecot use it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from mailadmin import create_app
from mailadmin.mailserver.generate import generate
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.setup import initialise
from mailadmin.settings import Settings, load_settings
from mailadmin.wiring import Services
from tests.debian_slapd import DebianSlapd
from tests.mailserver.conftest import MAIL_USER, with_spool
from tests.mailserver.servers import imap_logs_in, postmap, shared_folder
from tests.web.conftest import login

pytestmark = pytest.mark.slow
BASE = "dc=phuyen,dc=gov,dc=vn"
PASSWORD = "Song-Ba-ra-bien-2026"
PEOPLE = ("Mã nhân sự (HR id),Họ tên (Full name),Đơn vị (Unit),Chức danh (Title),Điện thoại (Phone),"
          "Thư điện tử (Mail),Bí danh (Aliases),Trạng thái (Status)\n"
          "NVX001,Lê Văn Ngoài,STTTT,Chuyên viên,,,tiepdan-ngoai@phuyen.gov.vn,active\n"
          "NVX002,Phạm Thị Máy Chủ,STTTT,Chuyên viên,,,,active\n")


@pytest.fixture(scope="module")
def debian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebianSlapd]:
    if os.geteuid() != 0:
        pytest.skip("SASL EXTERNAL on ldapi:// maps to root only when the test runs as root (CI does)")
    server = DebianSlapd(tmp_path_factory.mktemp("debian-slapd"), BASE, "Phu Yen")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def environ(debian: DebianSlapd) -> dict[str, str]:
    return external_environ(debian)


def external_environ(debian: DebianSlapd) -> dict[str, str]:
    """mailadmin pointed at the Debian server, as docs/directory.md says: ldap.uris and the two accounts."""
    secrets = debian.root / "secrets"
    return {"MAILADMIN_STATE_DIR": str(debian.root / "state"), "MAILADMIN_LDAP_URIS": debian.uri,
            "MAILADMIN_LDAP_BIND_DN": f"cn=mailadmin,ou=system,{BASE}",
            "MAILADMIN_LDAP_BIND_PASSWORD_FILE": str(secrets / "ldap-service.password"),
            "MAILADMIN_SMTP_BIND_DN": f"cn=mailserver,ou=system,{BASE}",
            "MAILADMIN_SMTP_BIND_PASSWORD_FILE": str(secrets / "ldap-mailserver.password"),
            "MAILADMIN_PASSWORDS_ARGON2_MEMORY_KIB": "8192", "MAILADMIN_PASSWORDS_ARGON2_TIME_COST": "1",
            "MAILADMIN_AUTH_SECOND_FACTOR_ROLES": ""}


def mailadmin(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mailadmin ARGS` as an operator would run it."""
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], env={**os.environ, **environ},
                          capture_output=True, text=True, timeout=120, check=False)


def config_dump(debian: DebianSlapd) -> str:
    """cn=config and the data tree with their change stamps: equal dumps mean nothing was written."""
    return debian.ldapsearch("-b", "cn=config", "*", "+") + debian.ldapsearch("-b", BASE, "*", "+")


@pytest.fixture(scope="module")
def prepared(debian: DebianSlapd, environ: dict[str, str]) -> Settings:
    """The server after the checks below, prepared by `directory prepare --external` alone, then `init`."""
    uri = ["--config-uri", debian.ldapi_uri]
    before = mailadmin(environ, "directory", "check", *uri)
    assert before.returncode == 1, before.stdout + before.stderr
    assert "THIẾU / MISSING" in before.stdout and "misc" in before.stdout and "mailadmin" in before.stdout
    assert "prepare --external" in before.stdout

    printed = mailadmin(environ, "directory", "prepare", "--external", "--print-ldif", *uri)
    assert printed.returncode == 0, printed.stderr
    assert "changetype: add" in printed.stdout and "olcOverlay=ppolicy" in printed.stdout

    done = mailadmin(environ, "directory", "prepare", "--external", *uri)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "to * by * read" in done.stderr  # the warning names the rules other applications relied on

    after = mailadmin(environ, "directory", "check", "--json", *uri)
    assert after.returncode == 0, after.stdout + after.stderr

    dump = config_dump(debian)
    again = mailadmin(environ, "directory", "prepare", "--external", *uri)
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr
    assert config_dump(debian) == dump
    assert "# Không có gì cần thay đổi" in mailadmin(environ, "directory", "prepare", "--external",
                                                     "--print-ldif", *uri).stdout

    settings = load_settings(environ)
    services = Services(settings)
    initialise(services)
    services.close()
    return settings


@pytest.fixture(scope="module")
def services(prepared: Settings) -> Iterator[Services]:
    running = Services(prepared)
    yield running
    running.close()


@pytest.fixture(scope="module")
def officer(services: Services, environ: dict[str, str]) -> str:
    """The first super admin, granted the documented way (`mailadmin role grant`)."""
    uid = services.mailboxes.add(NewMailbox(full_name="Đoàn Văn Quản", unit_code="STTTT",
                                            password=PASSWORD)).mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    granted = mailadmin(environ, "role", "grant", uid, "superadmin")
    assert granted.returncode == 0, granted.stderr
    return uid


@pytest.fixture(scope="module")
def imported(prepared: Settings, environ: dict[str, str], debian: DebianSlapd) -> None:
    people = debian.root / "people.csv"
    people.write_text(PEOPLE, encoding="utf-8")
    result = mailadmin(environ, "import", str(people))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def app(prepared: Settings) -> Iterator[Flask]:
    flask_app = create_app({"TESTING": True}, settings=prepared)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def test_the_web_admin_serves_an_imported_mailbox(app: Flask, officer: str, imported: None) -> None:
    client = app.test_client()
    assert login(client, officer, PASSWORD).status_code == 302
    page = client.get("/mailboxes?q=ngoai")
    assert page.status_code == 200
    assert "Lê Văn Ngoài" in page.get_data(as_text=True)


def test_check_tries_the_mail_server_rules_on_real_entries(debian: DebianSlapd, environ: dict[str, str],
                                                          officer: str, imported: None, services: Services) -> None:
    # The prepared schema holds API tokens, and the role holder the check samples has a digest to hide.
    assert services.tokens.resolve(services.tokens.issue(officer)) is not None
    result = mailadmin(environ, "directory", "check", "--config-uri", debian.ldapi_uri)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def shared(debian: DebianSlapd) -> Iterator[Path]:
    folder = shared_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def mail_settings(prepared: Settings, shared: Path) -> Settings:
    return with_spool(prepared, shared)


def test_postfix_maps_resolve_through_the_external_directory(mail_settings: Settings, services: Services,
                                                              shared: Path, imported: None) -> None:
    out = shared / "postfix"
    assert generate(mail_settings, services.client, "postfix", out, mail_user=MAIL_USER).warnings == []
    mail = postmap(out, "ldap-virtual-alias-maps.cf", "tiepdan-ngoai@phuyen.gov.vn")
    assert mail is not None and mail.endswith("@phuyen.gov.vn")
    uid = mail.split("@")[0]
    assert postmap(out, "ldap-virtual-mailbox-maps.cf", mail) == f"{uid}/"


def test_dovecot_logs_in_through_the_external_directory(mail_settings: Settings, services: Services,
                                                        shared: Path, officer: str) -> None:
    generated = shared / "dovecot-conf"
    assert generate(mail_settings, services.client, "dovecot", generated, mail_user=MAIL_USER).warnings == []
    assert imap_logs_in(shared / "dovecot", generated, officer, PASSWORD)


def test_check_fails_when_the_mail_server_reads_hr_ids(debian: DebianSlapd, environ: dict[str, str],
                                                       imported: None) -> None:
    """Debian's `to * by * read` in front of mailadmin's rules: check names what leaks; prepare repairs it."""
    uri = ["--config-uri", debian.ldapi_uri]
    debian.ldapmodify("dn: olcDatabase={1}mdb,cn=config\nchangetype: modify\nadd: olcAccess\n"
                      "olcAccess: {0}to * by * read\n")
    leaking = mailadmin(environ, "directory", "check", "--json", *uri)
    assert leaking.returncode == 1
    report = json.loads(leaking.stdout)
    leaked = next(item for item in report["items"] if item["item"] == "mailserver-reads")
    assert not leaked["ok"] and any("employeeNumber" in what for what in leaked["missing"])
    assert "to * by * read" in leaked["fix"]
    assert mailadmin(environ, "directory", "prepare", "--external", *uri).returncode == 0
    assert mailadmin(environ, "directory", "check", *uri).returncode == 0


def test_the_printed_ldif_applied_with_ldapmodify_prepares_the_server_too(tmp_path: Path) -> None:
    """`--print-ldif | ldapmodify -Y EXTERNAL -H ldapi:///` is the same preparation as `prepare --external`."""
    if os.geteuid() != 0:
        pytest.skip("SASL EXTERNAL on ldapi:// maps to root only when the test runs as root (CI does)")
    server = DebianSlapd(tmp_path / "slapd", BASE, "Phu Yen")
    server.start()
    try:
        environ = external_environ(server)
        uri = ["--config-uri", server.ldapi_uri]
        printed = mailadmin(environ, "directory", "prepare", "--external", "--print-ldif", *uri)
        assert printed.returncode == 0, printed.stderr
        server.ldapmodify(printed.stdout)
        assert mailadmin(environ, "directory", "check", *uri).returncode == 0
        again = mailadmin(environ, "directory", "prepare", "--external", *uri)
        assert "Nothing changed" in again.stdout, again.stdout + again.stderr
        older_release(server)
        assert mailadmin(environ, "directory", "check", *uri).returncode == 1
        upgraded = mailadmin(environ, "directory", "prepare", "--external", *uri)
        assert "mailadmin: mamailbox" in upgraded.stdout, upgraded.stdout + upgraded.stderr
        assert mailadmin(environ, "directory", "check", *uri).returncode == 0
    finally:
        server.stop()


def older_release(server: DebianSlapd) -> None:
    """Put back maMailbox as an older release defined it (another DESC): what an upgrade finds."""
    dn = "cn={5}mailadmin,cn=schema,cn=config"
    current = next(line.split(": ", 1)[1] for line in server.ldapsearch("-b", dn, "-s", "base", "olcObjectClasses")
                   .splitlines() if "'maMailbox'" in line)
    older = current.replace("DESC 'An official", "DESC 'An older official")
    server.ldapmodify(f"dn: {dn}\nchangetype: modify\ndelete: olcObjectClasses\nolcObjectClasses: {current}\n-\n"
                      f"add: olcObjectClasses\nolcObjectClasses: {older}\n-\n")


def test_with_peers_the_printed_ldif_makes_the_server_a_provider_among_them(
        debian: DebianSlapd, environ: dict[str, str], prepared: Settings) -> None:
    """slapd.server_id and slapd.peers render the syncrepl stanza for an existing server (issue 15),
    and prepare creates the replication account it binds as, once."""
    peer = "ldap://ldap2.example.gov.vn:389"
    replicated = {**environ, "MAILADMIN_SLAPD_SERVER_ID": "2", "MAILADMIN_SLAPD_PEERS": f"{debian.uri},{peer}"}
    printed = mailadmin(replicated, "directory", "prepare", "--external", "--print-ldif",
                        "--config-uri", debian.ldapi_uri)
    assert printed.returncode == 0, printed.stderr
    assert f"dn: {REPLICATOR}\nchangetype: add\n" in printed.stdout  # the account and its read rule: the only
    rules = [line for line in printed.stdout.splitlines() if line.startswith("olcAccess: ")]  # changes the
    assert REPLICATOR in rules[0] and all(REPLICATOR not in rule for rule in rules[1:])   # prepared server lacks
    assert "olcServerID: 2" in printed.stdout and "olcMultiProvider: TRUE" in printed.stdout
    syncrepl = [line for line in printed.stdout.splitlines() if line.startswith("olcSyncrepl:")]
    assert len(syncrepl) == 1 and f"provider={peer}" in syncrepl[0]  # never itself
    applied = mailadmin(replicated, "directory", "prepare", "--external", "--config-uri", debian.ldapi_uri)
    assert applied.returncode == 0 and "2 changes written" in applied.stdout, applied.stderr
    assert "--print-ldif" in applied.stderr and "olcSyncrepl: " not in config_dump(debian)
    password = (Path(environ["MAILADMIN_LDAP_BIND_PASSWORD_FILE"]).parent / "ldap-replicator.password").read_text()
    assert password in syncrepl[0]  # the account's password is the one syncrepl is given
    assert _binds(debian, REPLICATOR, password)
    before = config_dump(debian)
    again = mailadmin(replicated, "directory", "prepare", "--external", "--config-uri", debian.ldapi_uri)
    assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr
    assert config_dump(debian) == before


REPLICATOR = f"cn=replicator,ou=system,{BASE}"


def _binds(server: DebianSlapd, dn: str, password: str) -> bool:
    return subprocess.run(["ldapwhoami", "-x", "-H", server.uri, "-D", dn, "-w", password],
                          capture_output=True, check=False).returncode == 0
