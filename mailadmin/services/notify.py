"""Welcome and reminder mails: jinja2 templates in templates/mail/, sent over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from mailadmin.audit import AuditLog
from mailadmin.errors import InvalidInput, MailadminError
from mailadmin.i18n import t
from mailadmin.resources import project_path
from mailadmin.services.mailboxes import MailboxService
from mailadmin.settings import Settings
from mailadmin.sizes import megabytes

TEMPLATES = ("welcome", "reminder")



def service_sender(settings: Settings) -> str:
    """The address mailadmin's own mails come from (smtp.sender, else noreply@ the domain)."""
    return settings.smtp.sender or f"noreply@{settings.organisation.mail_domain}"

class MailNotSent(MailadminError):
    """The SMTP server could not be reached or refused the mail."""

    exit_code = 9


class MailNotifier:
    """Composes a templated mail for one mailbox and hands it to the configured SMTP server."""

    def __init__(self, settings: Settings, mailboxes: MailboxService, audit: AuditLog) -> None:
        self.settings = settings
        self.mailboxes = mailboxes
        self.audit = audit
        self.environment = Environment(loader=FileSystemLoader(project_path("templates", "mail")),
                                       undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)

    @property
    def sender(self) -> str:
        return service_sender(self.settings)

    def compose(self, template: str, uid: str, language: str) -> EmailMessage:
        """The message for one mailbox in Vietnamese or English."""
        if template not in TEMPLATES:
            raise InvalidInput(t("Không có mẫu thư {name}", "no mail template {name}", name=template))
        mailbox = self.mailboxes.get(uid)
        smtp, organisation = self.settings.smtp, self.settings.organisation
        try:
            text = self.environment.get_template(f"{template}.{language}.txt.j2").render(
                name=mailbox.name.full, uid=mailbox.uid, mail=mailbox.mail, aliases=mailbox.aliases,
                unit=self.mailboxes.units.get(mailbox.unit_code).name, domain=organisation.mail_domain,
                smtp_host=smtp.hostname or f"mail.{organisation.mail_domain}",
                submission_port=smtp.submission_port,
                quota=megabytes(mailbox.quota_mib or self.settings.mailboxes.default_quota_mib),
                min_length=self.settings.passwords.min_length)
        except TemplateNotFound as exc:
            raise InvalidInput(t("Không có mẫu thư {name} bằng {lang}", "no {lang} mail template {name}",
                                 name=template, lang=language)) from exc
        subject, _, body = text.partition("\n\n")
        message = EmailMessage()
        message["From"], message["To"] = self.sender, mailbox.mail
        message["Subject"] = subject.removeprefix("Subject:").strip()
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain=organisation.mail_domain)
        message.set_content(body)
        message["Content-Language"] = language  # after set_content, which drops Content-* headers
        return message

    def send(self, template: str, uid: str, language: str = "vi") -> str:
        """Compose and send; returns the recipient's address."""
        message = self.compose(template, uid, language)
        self.deliver(message, [str(message["To"])])
        self.audit.record(f"mail.{template}", uid, after={"to": str(message["To"]), "language": language})
        return str(message["To"])

    def deliver(self, message: EmailMessage, recipients: list[str]) -> None:
        """Hand a composed message to the configured SMTP server, or raise MailNotSent."""
        smtp = self.settings.smtp
        host, port = smtp.send_host or smtp.host, smtp.send_port or smtp.port
        try:
            with smtplib.SMTP(host, port, timeout=30) as server:
                server.send_message(message, to_addrs=recipients)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(t("Không gửi được thư tới {to} qua {host}:{port}: {e}",
                                "could not send the mail to {to} through {host}:{port}: {e}",
                                to=", ".join(recipients), host=host, port=port, e=exc)) from exc
