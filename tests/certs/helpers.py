"""Helpers for binding tests: a configured certificate service, people, their certificates."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailadmin.model import Mailbox, Unit
from mailadmin.services.certificates import CertificateService
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services

from . import factory as f


def certificate_service(services: Services, **config: Any) -> CertificateService:
    """A CertificateService with some `certificates.*` settings replaced."""
    settings = replace(services.settings, certificates=replace(services.settings.certificates, **config))
    return CertificateService(settings, services.client, services.mailboxes, services.units, services.audit)


def person(services: Services, unit: Unit, full_name: str = "Nguyễn Văn An") -> Mailbox:
    """A new mailbox in the test's own unit (address generated: unique in the session)."""
    return services.mailboxes.add(NewMailbox(full_name=full_name, unit_code=unit.code)).mailbox


def cert_for(issuer: f.Issued, mailbox: Mailbox, **options: Any) -> f.Issued:
    """An official certificate naming the mailbox's address in E= and the SAN."""
    subject = f.official_name(mailbox.name.full, email=mailbox.mail)
    settings: dict[str, Any] = {"emails": (mailbox.mail,), **options}
    return f.official(issuer, subject, **settings)
