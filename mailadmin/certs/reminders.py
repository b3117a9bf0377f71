"""Certificate-expiry reminder mails to the owner and their unit admins, through the mail notifier's templates."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from mailadmin.audit import AuditLog
from mailadmin.certs.records import Expiring
from mailadmin.settings import Settings
from mailadmin.smtp.notify import MailNotifier

TEMPLATE = "cert-expiry"


class CertificateReminders:
    """Composes one reminder per expiring certificate (To: the owner, Cc: the unit admins) and sends it."""

    def __init__(self, settings: Settings, notifier: MailNotifier, audit: AuditLog) -> None:
        self.settings = settings
        self.notifier = notifier
        self.audit = audit

    def compose(self, item: Expiring, unit_name: str, language: str = "vi") -> EmailMessage:
        """The reminder for one expiring certificate in Vietnamese or English."""
        info, domain = item.certificate.info, self.settings.organisation.mail_domain
        text = self.notifier.environment.get_template(f"{TEMPLATE}.{language}.txt.j2").render(
            name=item.owner.name, uid=item.owner.uid, mail=item.owner.mail, unit=unit_name, domain=domain,
            subject=info.subject, issuer=info.issuer, serial=info.serial_hex, fingerprint=info.fingerprint_sha256,
            not_after=info.not_after.strftime("%d/%m/%Y"), days_left=item.days_left,
            expired=item.certificate.status == "expired", admins=[a.name or a.uid for a in item.admins])
        subject, _, body = text.partition("\n\n")
        message = EmailMessage()
        message["From"], message["To"] = self.notifier.sender, item.owner.mail
        copies = sorted({a.mail for a in item.admins if a.mail and a.mail != item.owner.mail})
        if copies:
            message["Cc"] = ", ".join(copies)
        message["Subject"] = subject.removeprefix("Subject:").strip()
        message["Date"], message["Message-ID"] = formatdate(localtime=True), make_msgid(domain=domain)
        message.set_content(body)
        message["Content-Language"] = language
        return message

    def send(self, item: Expiring, unit_name: str, language: str = "vi") -> list[str]:
        """Compose and send one reminder; returns every recipient."""
        message = self.compose(item, unit_name, language)
        recipients = [item.owner.mail, *[a.strip() for a in str(message.get("Cc", "")).split(",") if a.strip()]]
        self.notifier.deliver(message, recipients)
        self.audit.record(f"mail.{TEMPLATE}", item.owner.uid,
                          after={"to": recipients, "fingerprint": item.certificate.info.fingerprint_sha256,
                                 "language": language})
        return recipients
