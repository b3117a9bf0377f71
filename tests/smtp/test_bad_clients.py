"""Bad clients and a missing directory get SMTP errors, never a crash or a lost message."""

from __future__ import annotations

import dataclasses
import smtplib
import socket

import pytest
from aiosmtpd.smtp import SMTP

from mailadmin.model import Unit, UnitKind
from mailadmin.smtp.config import mail_routing, smtp_config
from tests.conftest import RunningDirectory
from tests.smtp.conftest import PASSWORD, RunningSmtpd, message, new_mailbox, start_smtpd


def test_malformed_and_overlong_commands_get_errors_and_the_session_goes_on(smtpd: RunningSmtpd) -> None:
    with smtpd.inbound() as client:
        client.ehlo()
        assert client.docmd("FROBNICATE")[0] == 500
        assert client.docmd("MAIL", "FROM:<<<not an address")[0] == 553
        assert client.docmd("RCPT", "TO:<x@y>")[0] == 503  # no MAIL yet
        assert client.docmd("NOOP", "x" * 5000)[0] == 500  # line too long
        assert client.noop()[0] == 250


def test_every_command_and_mechanism_is_still_found(smtpd: RunningSmtpd) -> None:
    """LdapSMTP answers dir() with the names aiosmtpd scans for: none may go missing."""
    commands = {name[len("smtp_"):] for name in dir(SMTP) if name.startswith("smtp_")} - {"STARTTLS", "QUIT"}
    assert {"EHLO", "MAIL", "RCPT", "DATA", "AUTH", "HELP"} <= commands
    with smtpd.inbound() as client:
        assert client.docmd("FROBNICATE")[1].endswith(b"not recognized")  # what a lost command would say
        for command in sorted(commands):
            assert not client.docmd(command)[1].endswith(b"not recognized"), command
    with smtpd.submission() as client:
        client.ehlo()
        assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN"}


def test_oversized_auth_exchange_is_refused_cleanly(smtpd: RunningSmtpd) -> None:
    with smtpd.submission() as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login("annv", "x" * 3000)
        assert refused.value.smtp_code >= 500
        assert client.noop()[0] == 250


def test_too_many_recipients_get_452(smtpd: RunningSmtpd, services, unit: Unit) -> None:
    _, mail = new_mailbox(services, unit, "Tạ Văn Nhiều Người")
    limit = smtpd.config.max_recipients
    with smtpd.inbound() as client:
        client.ehlo()
        client.mail("ai@example.org")
        codes = [client.rcpt(mail)[0] for _ in range(limit + 2)]
    assert codes == [250] * limit + [452, 452]


def test_message_over_the_size_limit_is_552_and_not_delivered(smtpd: RunningSmtpd, services, unit: Unit) -> None:
    uid, mail = new_mailbox(services, unit, "Tạ Thị Thư To")
    body = ("dòng dài " * 10 + "\r\n") * (smtpd.config.max_message_bytes // 90 + 10)
    big = message("ai@example.org", mail, body=body)
    with smtpd.inbound() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        client.sendmail("ai@example.org", [mail], big)  # announces SIZE=: refused at MAIL
    assert refused.value.smtp_code == 552
    with smtpd.inbound() as client:  # says nothing of the size: refused after DATA
        client.ehlo()
        client.mail("ai@example.org")
        client.rcpt(mail)
        assert client.data(big)[0] == 552
    assert smtpd.maildir(uid) == []


def test_connections_beyond_the_per_client_limit_get_421(smtpd: RunningSmtpd) -> None:
    limit = smtpd.config.max_connections_per_client
    held = [smtpd.inbound() for _ in range(limit)]
    try:
        with socket.create_connection(("127.0.0.1", smtpd.ports.port), timeout=10) as extra:
            assert extra.recv(200).startswith(b"421")
    finally:
        for client in held:
            client.quit()
    with smtpd.inbound() as client:  # slots are given back
        assert client.noop()[0] == 250


def test_directory_down_means_4xx_then_recovery(fresh_directory: RunningDirectory, tmp_path) -> None:
    services = fresh_directory.services
    unit = Unit(code="DOWN", name="Đơn vị mất thư mục", kind=UnitKind.AGENCY, path=("54", "DOWN"))
    services.units.store.add(unit)
    services.units.forget()
    uid, mail = new_mailbox(services, unit, "Cao Văn Mất Kết Nối")
    config = dataclasses.replace(smtp_config(fresh_directory.settings), port=0, submission_port=0,
                                 spool=tmp_path / "spool", tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    routing = mail_routing(fresh_directory.settings)
    thread, running = start_smtpd(config, routing)
    try:
        with running.inbound() as client:
            client.ehlo()
            client.mail("ai@example.org")
            assert client.rcpt(mail)[0] == 250  # accepted while the directory is up...
            fresh_directory.slapd.stop()
            assert client.data(message("ai@example.org", mail))[0] == 250  # ...and delivered after it fell
            client.mail("ai@example.org")
            assert client.rcpt(mail)[0] == 451
        with running.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(uid, PASSWORD)
        assert refused.value.smtp_code == 454
        fresh_directory.slapd.start()
        with running.submission() as client:
            assert client.login(uid, PASSWORD)[0] == 235
        assert len(running.maildir(uid)) == 1
    finally:
        thread.stop()
        routing.close()
