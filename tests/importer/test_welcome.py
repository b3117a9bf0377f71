"""The optional welcome mail per imported person, through real SMTP, never failing the import itself."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mailadmin.importer.service import ImportService
from mailadmin.model import Unit
from mailadmin.services.notify import MailNotifier
from mailadmin.wiring import Services
from tests.conftest import MailSink, free_port

from .helpers import csv_file
from .test_apply import invoke, people


def imports_mailing_to(services: Services, port: int, state_dir: Path) -> ImportService:
    """The import service with its own jobs folder, its welcome mails going to SMTP on `port`."""
    settings = replace(services.settings, state_dir=state_dir,
                       smtp=replace(services.settings.smtp, send_host="127.0.0.1", send_port=port))
    notifier = MailNotifier(settings, services.mailboxes, services.audit)
    return ImportService(settings, services.mailboxes, services.audit,
                         welcome=lambda uid, language: notifier.send("welcome", uid, language))


def test_each_created_mailbox_gets_one_welcome_mail(mail_sink: tuple[MailSink, int], services: Services,
                                                    unit: Unit, tmp_path: Path) -> None:
    handler, port = mail_sink
    imports = imports_mailing_to(services, port, tmp_path)
    job = imports.start(imports.preview(csv_file(people(unit, 2)), "staff.csv"), welcome="en")
    result = imports.apply(job)
    created = sorted(m.mail for m in imports.export(unit.code))
    assert result["welcome"] == {"sent": 2, "already": 0, "failed": []}
    assert sorted(envelope.rcpt_tos[0] for envelope, _ in handler.received) == created
    assert all(message["Subject"].startswith("Welcome") for _, message in handler.received)
    # Updates are not welcomed; a second run for the same job sends nothing again.
    assert imports.send_welcome(job.id, "en") == {"sent": 0, "already": 2, "failed": []}
    assert len(handler.received) == 2


def test_an_smtp_outage_leaves_the_import_done_and_the_mails_to_send_later(
        mail_sink: tuple[MailSink, int], services: Services, unit: Unit, tmp_path: Path) -> None:
    handler, port = mail_sink
    nobody_listens = free_port()
    down = imports_mailing_to(services, nobody_listens, tmp_path)
    job = down.start(down.preview(csv_file(people(unit, 2)), "staff.csv"), welcome="vi")
    result = down.apply(job)
    assert result["counts"]["create"] == 2 and down.status(job.id)["state"] == "done"
    assert result["welcome"]["sent"] == 0 and len(result["welcome"]["failed"]) == 2
    assert "127.0.0.1" in result["welcome"]["failed"][0]["error"]
    up = imports_mailing_to(services, port, tmp_path)
    assert up.send_welcome(job.id, "vi") == {"sent": 2, "already": 0, "failed": []}
    assert len(handler.received) == 2


def test_without_the_option_nobody_is_mailed(mail_sink: tuple[MailSink, int], services: Services, unit: Unit,
                                             tmp_path: Path) -> None:
    handler, port = mail_sink
    imports = imports_mailing_to(services, port, tmp_path)
    result = imports.apply(imports.start(imports.preview(csv_file(people(unit, 2)), "staff.csv")))
    assert "welcome" not in result and handler.received == []


def test_cli_welcome_option(mail_sink: tuple[MailSink, int], services: Services, unit: Unit,
                            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, port = mail_sink
    monkeypatch.setenv("MAILADMIN_SMTP_SEND_HOST", "127.0.0.1")
    monkeypatch.setenv("MAILADMIN_SMTP_SEND_PORT", str(port))
    staff = tmp_path / "staff.csv"
    staff.write_bytes(csv_file(people(unit, 1)))
    result = invoke(services, monkeypatch, "import", str(staff), "--welcome", "vi", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["welcome"] == {"sent": 1, "already": 0, "failed": []} and len(handler.received) == 1
    again = invoke(services, monkeypatch, "import", "welcome", summary["job"], "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["already"] == 1 and len(handler.received) == 1
