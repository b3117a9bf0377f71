"""Certificate-expiry reminder mails to the owner and their unit admins, through the mail notifier's templates.

A reminder goes out once per stage: when a certificate comes within each of
`certificates.reminder_days` (30, 14, 7, 1 days, and the report's horizon) of its expiry, and once
after it has expired. What was sent is remembered in <state>/notify/cert-reminders.json, so the
command can run every day without mailing anyone every day.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from mailadmin.audit import AuditLog
from mailadmin.certs.records import Expiring
from mailadmin.durable import replace_file
from mailadmin.services.notify import MailNotifier
from mailadmin.settings import Settings

TEMPLATE = "cert-expiry"
MEMORY_FILE = Path("notify", "cert-reminders.json")
FORGET_AFTER = timedelta(days=400)  # a remembered stage older than this is dropped


@dataclass(frozen=True)
class Reminded:
    """What happened to one expiring certificate in a reminder run."""

    item: Expiring
    stage: int | None  # days of the stage it is in (0: expired); None: not within any stage
    recipients: tuple[str, ...]  # empty when nothing was sent


def stage_of(days_left: int, stages: Sequence[int]) -> int | None:
    """The smallest stage (days before expiry) the certificate is within; 0 once expired."""
    if days_left <= 0:
        return 0
    within = [days for days in stages if days > 0 and days_left <= days]
    return min(within) if within else None


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

    def remind(self, found: Sequence[Expiring], unit_name: Callable[[str], str], language: str = "vi", *,
               horizon: int | None = None, force: bool = False, now: datetime | None = None) -> list[Reminded]:
        """Send the reminders that are due (one per certificate and stage); `force` sends them all."""
        now = now or datetime.now(UTC)
        stages = (*self.settings.certificates.reminder_days, *([horizon] if horizon else []))
        outcome: list[Reminded] = []
        with self._memory(now) as memory:
            for item in found:
                fingerprint, stage = item.certificate.info.fingerprint_sha256, stage_of(item.days_left, stages)
                last = _stage(memory.get(fingerprint, {}).get("stage"))
                due = stage is not None and (last is None or stage < last)
                if not (due or force):
                    outcome.append(Reminded(item, stage, ()))
                    continue
                recipients = self.send(item, unit_name(item.unit_code), language)
                if stage is not None:
                    memory[fingerprint] = {"stage": stage, "sent": now.isoformat(timespec="seconds")}
                outcome.append(Reminded(item, stage, tuple(recipients)))
        return outcome

    @contextmanager
    def _memory(self, now: datetime) -> Iterator[dict[str, dict[str, object]]]:
        """The remembered stages, locked against a concurrent run, written back atomically."""
        path = self.settings.state_dir / MEMORY_FILE
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                memory = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            except (OSError, ValueError):
                memory = {}  # a damaged memory costs at most one repeated reminder per certificate
            try:
                yield memory
            finally:
                kept = {key: value for key, value in memory.items()
                        if now - datetime.fromisoformat(str(value["sent"])) < FORGET_AFTER}
                replace_file(path, json.dumps(kept, indent=1, sort_keys=True))

    def send(self, item: Expiring, unit_name: str, language: str = "vi") -> list[str]:
        """Compose and send one reminder; returns every recipient."""
        message = self.compose(item, unit_name, language)
        recipients = [item.owner.mail, *[a.strip() for a in str(message.get("Cc", "")).split(",") if a.strip()]]
        self.notifier.deliver(message, recipients)
        self.audit.record(f"mail.{TEMPLATE}", item.owner.uid,
                          after={"to": recipients, "fingerprint": item.certificate.info.fingerprint_sha256,
                                 "language": language})
        return recipients


def _stage(value: object) -> int | None:
    """A remembered stage (days) from the reminder memory file, None when absent or not a number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
