"""What the certificate use cases return: bindings, owners, expiring certificates, bulk plans."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography import x509

from mailadmin.certs.info import CertificateInfo, Status
from mailadmin.certs.result import ValidationResult
from mailadmin.i18n import Text
from mailadmin.model import Mailbox


@dataclass(frozen=True)
class BoundCertificate:
    """A certificate bound to a mailbox, described at one moment."""

    uid: str
    info: CertificateInfo
    status: Status
    der: bytes = field(repr=False)

    def record(self) -> dict[str, Any]:
        """Plain data for JSON output and the audit log."""
        info = self.info
        return {"uid": self.uid, "subject": info.subject, "issuer": info.issuer, "serial": info.serial_hex,
                "fingerprint_sha256": info.fingerprint_sha256, "not_before": info.not_before.isoformat(),
                "not_after": info.not_after.isoformat(), "key_usage": list(info.key_usages),
                "emails": list(info.emails), "status": self.status}


@dataclass(frozen=True)
class Checked:
    """An uploaded certificate validated for one mailbox; nothing written yet."""

    mailbox: Mailbox
    leaf: x509.Certificate
    result: ValidationResult

    @property
    def info(self) -> CertificateInfo:
        return CertificateInfo.from_certificate(self.leaf)


@dataclass(frozen=True)
class Contact:
    """Someone to tell about a certificate: its owner or a unit admin."""

    uid: str
    name: str
    mail: str


@dataclass(frozen=True)
class Owner:
    """The account a certificate is bound to, and which lookups found it."""

    uid: str
    name: str
    mail: str
    unit_code: str
    matched_by: tuple[str, ...]

    def record(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return asdict(self)


@dataclass(frozen=True)
class Expiring:
    """A bound certificate that ends within the horizon, with the people to remind."""

    certificate: BoundCertificate
    owner: Contact
    unit_code: str
    days_left: int
    renewed: bool
    admins: tuple[Contact, ...]

    def record(self) -> dict[str, Any]:
        """Plain data for JSON output and the reminder mails."""
        return {**self.certificate.record(), "owner": asdict(self.owner), "unit": self.unit_code,
                "days_left": self.days_left, "renewed": self.renewed,
                "admins": [asdict(admin) for admin in self.admins]}


@dataclass
class BulkRow:
    """One file of a bulk binding: what will happen (plan) or what happened (report)."""

    file: str
    outcome: str  # plan: bind | skip | error; after apply: bound | skip | error | failed
    uid: str = ""
    fingerprint: str = ""
    subject: str = ""
    messages: list[Text] = field(default_factory=list)
    checked: Checked | None = field(default=None, repr=False)

    def record(self, language: str = "vi") -> dict[str, Any]:
        """Plain data for the per-file report."""
        return {"file": self.file, "outcome": self.outcome, "uid": self.uid, "fingerprint": self.fingerprint,
                "subject": self.subject, "messages": [m.render(language) for m in self.messages]}


@dataclass
class BulkPlan:
    """Every file of a folder or zip with its outcome; `applied` once written."""

    source: str
    rows: list[BulkRow]
    ignored: list[str]
    applied: bool = False

    def count(self, outcome: str) -> int:
        """How many rows have this outcome."""
        return sum(1 for row in self.rows if row.outcome == outcome)
