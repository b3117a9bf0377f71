"""Welcome and reminder mails, received by an aiosmtpd sink."""

from __future__ import annotations

import dataclasses
import email

import pytest
from click.testing import CliRunner

from mailadmin.cli import main
from mailadmin.errors import InvalidInput
from mailadmin.model import Unit
from mailadmin.services.notify import MailNotifier, MailNotSent
from mailadmin.wiring import Services
from tests.conftest import MailSink, RunningDirectory, free_port
from tests.smtp.conftest import new_mailbox


def notifier_for(services: Services, port: int) -> MailNotifier:
    settings = services.settings
    smtp = dataclasses.replace(settings.smtp, send_host="127.0.0.1", send_port=port)
    return MailNotifier(dataclasses.replace(settings, smtp=smtp), services.mailboxes, services.audit)


@pytest.mark.parametrize(("language", "words"), [("vi", "Chào mừng"), ("en", "Welcome")])
def test_welcome_mail_in_each_language(mail_sink: tuple[MailSink, int], services: Services, unit: Unit,
                                       language: str, words: str) -> None:
    handler, port = mail_sink
    uid, mail = new_mailbox(services, unit, "Đào Thị Mới Vào", f"moi-{language}-{unit.code.lower()}@phuyen.gov.vn")
    assert notifier_for(services, port).send("welcome", uid, language) == mail
    [(envelope, message)] = handler.received
    assert envelope.rcpt_tos == [mail] and envelope.mail_from == "noreply@phuyen.gov.vn"
    assert words in str(email.header.make_header(email.header.decode_header(message["Subject"])))
    body = message.get_payload(decode=True).decode("utf-8")
    assert "Đào Thị Mới Vào" in body and mail in body and f"moi-{language}-" in body
    assert unit.name in body
    assert " 2 GB" in body and "MiB" not in body  # the default 2048 MiB quota, as the web admin says it
    assert message["Content-Language"] == language


def test_reminder_mail_and_audit(mail_sink: tuple[MailSink, int], services: Services, unit: Unit) -> None:
    handler, port = mail_sink
    uid, mail = new_mailbox(services, unit, "Đào Văn Chưa Đổi")
    notifier_for(services, port).send("reminder", uid, "vi")
    [(_, message)] = handler.received
    assert str(services.settings.passwords.min_length) in message.get_payload(decode=True).decode("utf-8")
    assert any(entry.action == "mail.reminder" and entry.target == uid for entry in services.audit.entries())


def test_unreachable_smtp_and_unknown_template_are_clean_errors(services: Services, unit: Unit) -> None:
    uid, _ = new_mailbox(services, unit, "Đào Văn Không Gửi Được")
    with pytest.raises(MailNotSent):
        notifier_for(services, free_port()).send("welcome", uid, "vi")
    with pytest.raises(InvalidInput):
        notifier_for(services, free_port()).send("khong-co", uid, "vi")


def test_notify_command_sends_through_the_configured_server(mail_sink: tuple[MailSink, int],
                                                            directory: RunningDirectory,
                                                            services: Services, unit: Unit) -> None:
    handler, port = mail_sink
    uid, mail = new_mailbox(services, unit, "Đào Văn Dòng Lệnh")
    environ = {"MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
               "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port),
               "MAILADMIN_SMTP_SEND_HOST": "127.0.0.1", "MAILADMIN_SMTP_SEND_PORT": str(port)}
    result = CliRunner().invoke(main, ["notify", "welcome", uid, "--lang", "en"], env=environ)
    assert result.exit_code == 0, result.output
    assert mail in result.stdout and [envelope.rcpt_tos for envelope, _ in handler.received] == [[mail]]
    result = CliRunner().invoke(main, ["notify", "welcome", "khong-co-ai"], env=environ)
    assert result.exit_code == 3 and "Error:" in result.stderr
