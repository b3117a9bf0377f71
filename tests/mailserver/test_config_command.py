"""`mailadmin mailserver-config`: output, written files and compatibility warnings."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from mailadmin.cli import main
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.mailserver import checks
from mailadmin.mailserver.generate import compatibility
from mailadmin.model import Unit
from mailadmin.passwords import hash_generated
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory


def run(directory: RunningDirectory, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    environ = {"MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
               "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port), **(env or {})}
    result = CliRunner().invoke(main, ["mailserver-config", *args], env=environ)
    return result.exit_code, result.stdout, result.stderr


def test_printed_config_hides_the_password_written_files_hold_it(directory: RunningDirectory, tmp_path: Path) -> None:
    code, out, _ = run(directory, "dovecot", "--mail-user", "nobody")
    password_file = directory.settings.state_dir / "secrets" / "ldap-mailserver.password"
    password = password_file.read_text().strip()
    assert code == 0 and "auth_bind = yes" in out and "cn=mailserver,ou=system" in out
    assert password not in out and str(password_file) in out
    code, out, _ = run(directory, "postfix", "-o", str(tmp_path), "--mail-user", "nobody")
    assert code == 0
    maps = tmp_path / "ldap-virtual-alias-maps.cf"
    assert f"bind_pw = {password}" in maps.read_text()
    assert stat.S_IMODE(maps.stat().st_mode) == 0o600


def test_unknown_kind_and_unknown_mail_user_are_clean_errors(directory: RunningDirectory) -> None:
    code, _, err = run(directory, "exim")
    assert code == 2 and "Traceback" not in err
    code, _, err = run(directory, "postfix", "--mail-user", "khong-co-nguoi-nay")
    assert code == 2 and "Lỗi:" in err and "Error:" in err


def test_password_lookup_without_auth_bind_is_warned_about(directory: RunningDirectory, services: Services,
                                                           unit: Unit) -> None:
    services.mailboxes.add(NewMailbox(full_name="Tự Chọn Mật Khẩu", unit_code=unit.code, password="Tu-chon-2026-abc"))
    code, _, err = run(directory, "dovecot", "--no-auth-bind", "--mail-user", "nobody")
    assert code == 0
    assert "may not read userPassword" in err  # the ACLs keep hashes from the mail servers
    assert "{ARGON2}" in err  # the demo admin and people who chose a password: argon2id


def test_a_size_limit_below_the_mailbox_count_is_warned_about(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    unit_dn = f"ou={unit.code},ou=54,{base}"
    entries = [(f"uid=lim{i:04d},{unit_dn}", {
        "objectClass": ["inetOrgPerson", "inetLocalMailRecipient", "maMailbox"], "uid": [f"lim{i:04d}"],
        "cn": ["Giới Hạn"], "sn": ["Giới"], "mail": [f"lim{i:04d}@phuyen.gov.vn"],
        "mailLocalAddress": [f"lim{i:04d}@phuyen.gov.vn"], "maAccountStatus": ["active"], "maTier": ["province"],
    }) for i in range(520)]
    entries[0][1]["userPassword"] = [hash_generated("Gioi-han-500-muc")]
    assert services.client.add_many(entries) == []
    # An account without a `limits` line (an ordinary person) meets slapd's default of 500.
    limited = DirectoryClient(DirectoryConfig(services.client.config.uris, base, entries[0][0], "Gioi-han-500-muc"))
    try:
        warnings = checks.size_limit(limited, 520)
    finally:
        limited.close()
    assert len(warnings) == 1 and "size limit" in warnings[0].render("en")


def test_cleartext_ldap_to_another_host_is_warned_about() -> None:
    assert checks.cleartext_uris(("ldap://127.0.0.1:3890", "ldaps://ldap1.phuyen.gov.vn")) == []
    [warning] = checks.cleartext_uris(("ldap://ldap2.phuyen.gov.vn",))
    assert "ldap2.phuyen.gov.vn" in warning.render("vi")


def test_an_account_that_cannot_read_pwdreset_is_warned_about(services: Services, unit: Unit) -> None:
    """Bound as a mailbox owner: pwdReset of others is hidden, as with an ACL copied from an older release."""
    created = services.mailboxes.add(NewMailbox(full_name="Không Đọc Cờ", unit_code=unit.code,
                                                password="Song-Ba-ra-bien-2026"))
    dn = services.mailboxes.store.find_entry(created.mailbox.uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    owner = DirectoryClient(DirectoryConfig(services.client.config.uris, services.client.base_dn, dn,
                                            "Song-Ba-ra-bien-2026"))
    try:
        [warning] = checks.reset_flag(owner, services.client)
    finally:
        owner.close()
    assert "pwdReset" in warning.render("en") and dn in warning.render("vi")


def test_the_session_directory_raises_no_warning(directory: RunningDirectory) -> None:
    assert compatibility(directory.settings, directory.services.client, "postfix", True) == []
    assert compatibility(directory.settings, directory.services.client, "dovecot", True) == []


def test_the_doveadm_listener_and_key_follow_mailstore_doveadm_url(directory: RunningDirectory,
                                                                   tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "doveadm.key"
    store = {"MAILADMIN_MAILSTORE_DOVEADM_URL": "http://127.0.0.1:8087/doveadm/v1",
             "MAILADMIN_MAILSTORE_DOVEADM_KEY_FILE": str(key_file)}
    code, out, _ = run(directory, "dovecot", "--mail-user", "nobody", env=store)
    key = key_file.read_text().strip()  # made on first use, 0600
    assert code == 0 and len(key) >= 40 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "port = 8087" in out and "address = 127.0.0.1" in out and key not in out and str(key_file) in out
    code, _, _ = run(directory, "dovecot", "--mail-user", "nobody", "-o", str(tmp_path / "conf"), env=store)
    assert code == 0 and f"doveadm_api_key = {key}\n" in (tmp_path / "conf" / "10-mailadmin.conf").read_text()
    code, out, _ = run(directory, "dovecot", "--mail-user", "nobody")
    assert code == 0 and "doveadm" not in out  # off by default: no listener, no key


def test_a_bad_or_cleartext_doveadm_url_is_a_clean_error_or_a_warning(directory: RunningDirectory,
                                                                      tmp_path: Path) -> None:
    key = {"MAILADMIN_MAILSTORE_DOVEADM_KEY_FILE": str(tmp_path / "doveadm.key")}
    code, _, err = run(directory, "dovecot", "--mail-user", "nobody",
                       env={**key, "MAILADMIN_MAILSTORE_DOVEADM_URL": "127.0.0.1:8080"})
    assert code == 2 and "mailstore.doveadm_url" in err and "Error:" in err and "Traceback" not in err
    code, _, err = run(directory, "dovecot", "--mail-user", "nobody",
                       env={**key, "MAILADMIN_MAILSTORE_DOVEADM_URL": "http://mail.phuyen.gov.vn:8080/doveadm/v1"})
    assert code == 0 and "doveadm API key" in err
