"""Quota use where the mail store reports it: a real Dovecot, configured by `mailserver-config dovecot`, asked
through its doveadm HTTP API by the mailbox page and the API."""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.mailserver.generate import generate
from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.settings import Mailstore, Settings
from mailadmin.smtp import maildir
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, free_port
from tests.mailserver.conftest import MAIL_USER
from tests.mailserver.servers import PrivateDovecot
from tests.web.conftest import PASSWORD, login

MESSAGE_BYTES = 3 * 2**19  # 1,5 MB, CRLF lines: Dovecot's virtual size is the file's size


def with_doveadm(settings: Settings, shared: Path, name: str) -> Settings:
    """The settings with a doveadm HTTP listener of their own on a free loopback port."""
    store = Mailstore(doveadm_url=f"http://127.0.0.1:{free_port()}/doveadm/v1",
                      doveadm_key_file=str(shared / f"{name}.key"), timeout_seconds=5)
    return dataclasses.replace(settings, mailstore=store)


def started_dovecot(settings: Settings, directory: RunningDirectory, shared: Path, name: str) -> PrivateDovecot:
    generated = shared / f"{name}-conf"
    result = generate(settings, directory.services.client, "dovecot", generated, mail_user=MAIL_USER)
    assert result.warnings == []
    text = result.files["10-mailadmin.conf"]
    assert "quota = count:User quota" in text and f"port = {urlsplit(settings.mailstore.doveadm_url).port}\n" in text
    server = PrivateDovecot(shared / name, generated)
    server.start()
    return server


@pytest.fixture(scope="module")
def store_settings(mail_settings: Settings, shared: Path) -> Settings:
    return with_doveadm(mail_settings, shared, "doveadm")


@pytest.fixture(scope="module")
def dovecot(store_settings: Settings, directory: RunningDirectory, shared: Path) -> Iterator[PrivateDovecot]:
    server = started_dovecot(store_settings, directory, shared, "dovecot-quota")
    yield server
    server.stop()


def app_for(settings: Settings) -> Flask:
    return create_app({"TESTING": True}, settings=settings)


def superadmin(app: Flask, services: Services, unit: Unit) -> tuple[FlaskClient, dict[str, str]]:
    """A super admin's logged-in client and API headers."""
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Dung Lượng", unit_code=unit.code,
                                            password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client, {"Authorization": f"Bearer {services.tokens.issue(uid)}"}


def mailbox_with_mail(services: Services, settings: Settings, unit: Unit, name: str) -> str:
    """A 100 MB mailbox holding one 1,5 MB message, written into its Maildir as `mailadmin smtpd` does."""
    uid = services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, quota_mib=100)).mailbox.uid
    header = b"From: a@example.org\r\nSubject: Bao cao\r\n\r\n"
    line = b"x" * 1022 + b"\r\n"
    body = line * ((MESSAGE_BYTES - len(header)) // len(line))
    message = header + body + b"y" * (MESSAGE_BYTES - len(header) - len(body) - 2) + b"\r\n"
    assert len(message) == MESSAGE_BYTES
    folder = Path(settings.smtp.spool_dir) / uid
    maildir.deliver(folder, message)
    account = pwd.getpwnam(MAIL_USER)  # the test writes as root; smtpd and Dovecot run as the mail user
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid)
    return uid


def usage_cell(client: FlaskClient, uid: str) -> str:
    page = client.get(f"/mailboxes/{uid}")
    assert page.status_code == 200
    match = re.search(r'id="quota-use">(.*?)</td>', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)
    return match.group(1)


def test_the_mailbox_page_and_the_api_show_what_dovecot_counts(dovecot: PrivateDovecot, store_settings: Settings,
                                                               services: Services, unit: Unit) -> None:
    app = app_for(store_settings)
    client, headers = superadmin(app, services, unit)
    uid = mailbox_with_mail(services, store_settings, unit, "Lê Thị Nhiều Thư")
    assert usage_cell(client, uid).startswith("1,5 MB trên 100 MB (1,5 %)"), dovecot.output()
    use = client.get(f"/api/v1/mailboxes/{uid}", headers=headers).get_json()["quota_use"]
    assert use == {"state": "reported", "used_bytes": MESSAGE_BYTES, "limit_bytes": 100 * 2**20, "percent": 1.5}
    empty = services.mailboxes.add(NewMailbox(full_name="Lê Văn Chưa Có Thư", unit_code=unit.code)).mailbox.uid
    assert usage_cell(client, empty).startswith("0 MB trên 2 GB (0 %)")  # the default quota, nothing yet
    app.extensions["mailadmin"].close()


def test_a_wrong_api_key_is_not_available_not_an_error(dovecot: PrivateDovecot, store_settings: Settings,
                                                       services: Services, unit: Unit, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not-the-key", encoding="utf-8")
    settings = dataclasses.replace(store_settings, mailstore=dataclasses.replace(
        store_settings.mailstore, doveadm_key_file=str(wrong)))
    app = app_for(settings)
    client, headers = superadmin(app, services, unit)
    uid = mailbox_with_mail(services, settings, unit, "Lê Văn Sai Khóa")
    assert usage_cell(client, uid) == "tạm thời không lấy được từ máy chủ thư"
    assert client.get(f"/api/v1/mailboxes/{uid}", headers=headers).get_json()["quota_use"] == {"state": "unavailable"}
    app.extensions["mailadmin"].close()


def test_dovecot_stopped_the_page_still_renders_with_the_notice(mail_settings: Settings, directory: RunningDirectory,
                                                                shared: Path, services: Services, unit: Unit) -> None:
    settings = with_doveadm(mail_settings, shared, "dovecot-stopped")
    server = started_dovecot(settings, directory, shared, "dovecot-stopped")
    app = app_for(settings)
    client, headers = superadmin(app, services, unit)
    uid = mailbox_with_mail(services, settings, unit, "Lê Thị Máy Dừng")
    try:
        assert usage_cell(client, uid).startswith("1,5 MB trên 100 MB"), server.output()
    finally:
        server.stop()
    assert usage_cell(client, uid) == "tạm thời không lấy được từ máy chủ thư"
    assert client.get(f"/api/v1/mailboxes/{uid}", headers=headers).get_json()["quota_use"] == {"state": "unavailable"}
    app.extensions["mailadmin"].close()
