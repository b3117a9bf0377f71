"""Proof with the real Dovecot: a mailbox made by mailadmin logs in over IMAP through the generated config."""

from __future__ import annotations

import imaplib
import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.mailserver.generate import generate
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.settings import Settings
from mailadmin.smtp import maildir
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.mailserver.conftest import MAIL_USER
from tests.mailserver.servers import PrivateDovecot

PASSWORD = "Dang-nhap-IMAP-2026"


@pytest.fixture(scope="module")
def dovecot(mail_settings: Settings, directory: RunningDirectory, shared: Path) -> Iterator[PrivateDovecot]:
    generated = shared / "dovecot-conf"
    result = generate(mail_settings, directory.services.client, "dovecot", generated, mail_user=MAIL_USER)
    assert result.warnings == []
    server = PrivateDovecot(shared / "dovecot", generated)
    server.start()
    yield server
    server.stop()


def imap_login(server: PrivateDovecot, login: str, password: str) -> bool:
    with imaplib.IMAP4("127.0.0.1", server.port, timeout=20) as imap:
        try:
            imap.login(login, password)
        except imaplib.IMAP4.error:
            return False
        status, data = imap.select("INBOX")
        assert status == "OK", data
        imap.logout()
        return True


def test_imap_login_with_the_password_then_wrong_then_suspended(dovecot: PrivateDovecot, services: Services,
                                                               unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Trịnh Thị Đọc Thư", unit_code=unit.code,
                                                password=PASSWORD, aliases=(f"doc-{unit.code.lower()}@phuyen.gov.vn",)))
    mailbox = created.mailbox
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(mailbox.uid).dn)
    assert imap_login(dovecot, mailbox.uid, PASSWORD), dovecot.output()
    assert imap_login(dovecot, mailbox.mail, PASSWORD)
    assert imap_login(dovecot, mailbox.aliases[0], PASSWORD)
    assert not imap_login(dovecot, mailbox.uid, "Sai-mat-khau-2026")
    assert not imap_login(dovecot, "khong-co-ai", PASSWORD)
    services.mailboxes.suspend(mailbox.uid)
    assert not imap_login(dovecot, mailbox.uid, PASSWORD)
    services.mailboxes.resume(mailbox.uid)
    assert imap_login(dovecot, mailbox.uid, PASSWORD)


def test_maildir_delivered_by_smtpd_is_read_by_dovecot(dovecot: PrivateDovecot, mail_settings: Settings,
                                                       services: Services, unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Có Thư", unit_code=unit.code, password=PASSWORD))
    uid = created.mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    spool = Path(mail_settings.smtp.spool_dir)
    maildir.deliver(spool / uid, b"From: a@example.org\r\nSubject: Xin chao\r\n\r\nthu dau tien\r\n")
    _make_reachable(spool / uid)
    with imaplib.IMAP4("127.0.0.1", dovecot.port, timeout=20) as imap:
        imap.login(uid, PASSWORD)
        status, data = imap.select("INBOX")
        assert status == "OK" and data == [b"1"], dovecot.output()
        imap.logout()


def _make_reachable(folder: Path) -> None:
    """The test writes as root; in production smtpd and Dovecot run as the same mail user."""
    account = pwd.getpwnam(MAIL_USER)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)


def test_a_password_set_by_an_admin_opens_no_imap_until_the_owner_changes_it(dovecot: PrivateDovecot,
                                                                             services: Services, unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Trịnh Văn Mới Cấp", unit_code=unit.code))
    uid, initial = created.mailbox.uid, created.initial_password
    assert initial
    assert not imap_login(dovecot, uid, initial)  # a new account: the generated password
    services.mailboxes.change_own_password(uid, initial, PASSWORD)
    assert imap_login(dovecot, uid, PASSWORD), dovecot.output()
    reset = services.mailboxes.reset_password(uid)
    assert reset and not imap_login(dovecot, uid, reset)  # an admin reset
    assert not imap_login(dovecot, created.mailbox.mail, reset)
    services.mailboxes.change_own_password(uid, reset, "Doi-lai-IMAP-2026")
    assert imap_login(dovecot, created.mailbox.mail, "Doi-lai-IMAP-2026")
