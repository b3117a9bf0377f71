"""A real `mailadmin smtpd` (both listeners) on free loopback ports, bound to the session slapd."""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailadmin.directory.mailrouting import MailRoutingStore
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.smtp.config import SmtpConfig, mail_routing, smtp_config
from mailadmin.smtp.server import Listening, ServiceThread, SmtpService
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory

PASSWORD = "Mat-khau-thu-nghiem-2026"


@dataclass
class RunningSmtpd:
    """A started service: its config, bound ports and spool."""

    config: SmtpConfig
    ports: Listening

    def maildir(self, uid: str) -> list[bytes]:
        """Messages delivered to a mailbox (new/), oldest first."""
        folder = self.config.spool / uid / "new"
        return [path.read_bytes() for path in sorted(folder.iterdir())] if folder.exists() else []

    def inbound(self) -> smtplib.SMTP:
        return smtplib.SMTP("127.0.0.1", self.ports.port, timeout=10)

    def submission(self, *, tls: bool = True) -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", self.ports.submission_port, timeout=10)
        if tls:
            client.starttls(context=client_tls())
        return client


def client_tls() -> ssl.SSLContext:
    """The dev certificate is self-signed: tests check the protocol, not the chain."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def start_smtpd(config: SmtpConfig, routing: MailRoutingStore) -> tuple[ServiceThread, RunningSmtpd]:
    thread = ServiceThread(SmtpService(config, routing))
    return thread, RunningSmtpd(config, thread.start())


@pytest.fixture(scope="module")
def smtpd(directory: RunningDirectory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSmtpd]:
    """One service per test module; mail-server account, never the admin one."""
    spool = tmp_path_factory.mktemp("spool")
    config = dataclasses.replace(smtp_config(directory.settings), port=0, submission_port=0, spool=spool,
                                 tls_cert=spool.parent / "tls.crt", tls_key=spool.parent / "tls.key",
                                 max_recipients=5, max_message_bytes=64 * 1024, max_connections_per_client=4)
    routing = mail_routing(directory.settings)
    thread, running = start_smtpd(config, routing)
    yield running
    thread.stop()
    routing.close()


def new_mailbox(services: Services, unit: Unit, name: str, *aliases: str) -> tuple[str, str]:
    """A mailbox with a known password; returns (uid, mail)."""
    created = services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, password=PASSWORD,
                                                aliases=aliases))
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(created.mailbox.uid).dn)
    return created.mailbox.uid, created.mailbox.mail


def new_list(services: Services, unit: Unit, name: str, address: str, member_uids: list[str]) -> str:
    """A distribution list: groupOfNames with member DNs and its address in mailLocalAddress."""
    base = services.client.base_dn
    dn = f"cn={name},ou={unit.code},ou=54,{base}"
    members = [services.mailboxes.store.find_entry(uid).dn for uid in member_uids]
    services.client.add(dn, {"objectClass": ["groupOfNames", "inetLocalMailRecipient"], "cn": [name],
                             "member": members, "mailLocalAddress": [address]})
    return dn


def message(sender: str, recipient: str, subject: str = "Thử nghiệm", body: str = "Nội dung thư") -> bytes:
    return (f"From: {sender}\r\nTo: {recipient}\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8"
            f"\r\n\r\n{body}\r\n").encode()


def path_of(running: RunningSmtpd, uid: str) -> Path:
    return running.config.spool / uid
