"""Certificate-expiry reminder mails to the owner and their unit admins, received by an aiosmtpd sink."""

from __future__ import annotations

import dataclasses
import email.header
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailadmin.cli import main
from mailadmin.model import Mailbox, Role, Unit, UnitKind
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.services.notify import MailNotifier
from mailadmin.services.reminders import CertificateReminders, stage_of
from mailadmin.wiring import Services
from tests.conftest import MailSink, RunningDirectory

from . import factory as f
from .helpers import cert_for, person


def reminders_for(services: Services, port: int) -> CertificateReminders:
    settings = services.settings
    settings = dataclasses.replace(settings, smtp=dataclasses.replace(settings.smtp, send_host="127.0.0.1",
                                                                      send_port=port))
    return CertificateReminders(settings, MailNotifier(settings, services.mailboxes, services.audit), services.audit)


def unit_admin(services: Services, unit: Unit, name: str = "Quản Trị Đơn Vị") -> Mailbox:
    admin = person(services, unit, name)
    services.roles.set(services.mailboxes.store.find_entry(admin.uid).dn, frozenset({Role.UNITADMIN}), (unit.path,))
    return admin


def subject_of(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def body_of(message: Message) -> str:
    return message.get_payload(decode=True).decode("utf-8")


@pytest.mark.parametrize(("language", "ending", "words"), [
    ("vi", 10, ("sắp hết hạn", "còn 10 ngày")), ("en", -3, ("has expired", "expired on"))])
def test_reminder_goes_to_the_owner_and_the_unit_admins(
        mail_sink: tuple[MailSink, int], services: Services, certificates: CertificateService, gov: f.Hierarchy,
        unit: Unit, language: str, ending: int, words: tuple[str, str]) -> None:
    handler, port = mail_sink
    owner, admin = person(services, unit, "Nguyễn Thị Nhắc"), unit_admin(services, unit)
    issued = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=10))
    certificates.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)
    scoped = Principal(admin.uid, "", frozenset({Role.UNITADMIN}), (unit.path,))
    [item] = certificates.expiring(30, principal=scoped, now=f.NOW + timedelta(days=10 - ending))
    sent = reminders_for(services, port).send(item, unit.name, language)
    assert sent == [owner.mail, admin.mail]
    [(envelope, message)] = handler.received
    assert sorted(envelope.rcpt_tos) == sorted([owner.mail, admin.mail])
    assert message["To"] == owner.mail and message["Cc"] == admin.mail
    assert words[0] in subject_of(message) and "Nguyễn Thị Nhắc" in subject_of(message)
    body = body_of(message)
    assert words[1] in body and item.certificate.info.fingerprint_sha256 in body and unit.name in body
    assert "CA phục vụ các cơ quan Nhà nước G2" in body and "Quản Trị Đơn Vị" in body
    last = list(services.audit.entries())[-1]
    assert last.action == "mail.cert-expiry" and last.target == owner.uid


def test_cert_expiring_notify_command(mail_sink: tuple[MailSink, int], fresh_directory: RunningDirectory,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`mailadmin cert expiring --days N --notify`: the report on stdout, one mail per expiring certificate."""
    handler, port = mail_sink
    services, today = fresh_directory.services, datetime.now(UTC)
    dates = {"not_before": today - timedelta(days=30), "not_after": today + timedelta(days=3000)}
    root = f.root_ca(**dates)
    issuing = f.sub_ca(root, **dates)
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(f.pem(root.cert))
    monkeypatch.setenv("MAILADMIN_TRUST_ANCHORS", str(anchors))
    unit = Unit(code="R1", name="Sở Nhắc Việc", kind=UnitKind.AGENCY, path=("54", "R1"))
    services.units.store.add(unit)
    services.units.forget()
    soon, later = person(services, unit, "Lê Văn Sắp"), person(services, unit, "Lê Văn Lâu")
    admin = unit_admin(services, unit)
    for owner, days in ((soon, 5), (later, 200)):
        issued = cert_for(issuing, owner, not_before=today - timedelta(days=1), not_after=today + timedelta(days=days))
        services.certificates.bind(owner.uid, f.pem(issued.cert, issuing.cert), now=today)
    environ = {"MAILADMIN_STATE_DIR": str(fresh_directory.settings.state_dir),
               "MAILADMIN_SLAPD_PORT": str(fresh_directory.settings.slapd.port),
               "MAILADMIN_TRUST_ANCHORS": str(anchors), "MAILADMIN_LANG": "en",
               "MAILADMIN_SMTP_SEND_HOST": "127.0.0.1", "MAILADMIN_SMTP_SEND_PORT": str(port)}
    result = CliRunner().invoke(main, ["cert", "expiring", "--days", "30", "--notify", "--lang", "en"], env=environ)
    assert result.exit_code == 0, result.output
    assert soon.uid in result.stdout and later.uid not in result.stdout
    assert [sorted(envelope.rcpt_tos) for envelope, _ in handler.received] == [sorted([soon.mail, admin.mail])]
    assert "expires soon" in subject_of(handler.received[0][1])
    result = CliRunner().invoke(main, ["cert", "expiring", "--days", "30"], env=environ)
    assert result.exit_code == 0 and len(handler.received) == 1  # without --notify, no mail
    again = CliRunner().invoke(main, ["cert", "expiring", "--days", "30", "--notify"], env=environ)
    assert again.exit_code == 0 and len(handler.received) == 1  # the next day's run: already reminded
    assert f"= {soon.uid}: " in again.stderr and "already reminded at 7" in again.stderr


def test_reminder_stages() -> None:
    stages = (30, 14, 7, 1)
    assert [stage_of(days, stages) for days in (45, 30, 29, 14, 8, 7, 2, 1, 0, -5)] == \
        [None, 30, 30, 14, 14, 7, 7, 1, 0, 0]
    assert stage_of(45, (*stages, 60)) == 60  # the report's horizon is a stage too


def test_a_daily_run_mails_each_certificate_once_per_stage(
        mail_sink: tuple[MailSink, int], services: Services, certificates: CertificateService, gov: f.Hierarchy,
        unit: Unit) -> None:
    handler, port = mail_sink
    owner = person(services, unit, "Trương Văn Mỗi Ngày")
    issued = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=40))
    certificates.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)
    reminders = reminders_for(services, port)

    def run_on(day: int, force: bool = False) -> list[int | None]:
        """`cert expiring --days 30 --notify` as a daily cron job would run it `day` days from now."""
        when = f.NOW + timedelta(days=day)
        found = [item for item in certificates.expiring(30, now=when) if item.owner.uid == owner.uid]
        return [done.stage for done in reminders.remind(found, lambda _code: unit.name, horizon=30, force=force,
                                                        now=when) if done.recipients]
    sent_on = {day: run_on(day) for day in range(0, 45)}
    assert {day: stages for day, stages in sent_on.items() if stages} == \
        {10: [30], 26: [14], 33: [7], 39: [1], 40: [0]}  # 40 days left on day 0: expires on day 40
    assert len(handler.received) == 5
    assert run_on(44, force=True) == [0] and len(handler.received) == 6
