"""What a certificate says, in display form: names, serial, fingerprint, dates, usages, mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID, ObjectIdentifier

Status = Literal["valid", "expiring", "expired", "not_yet_valid", "revoked"]

DISPLAY_NAMES: dict[ObjectIdentifier, str] = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
    NameOID.USER_ID: "UID",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.STREET_ADDRESS: "STREET",
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN",
    NameOID.TITLE: "title",
}
# slapd's schema has no "E": the pkcs9 attribute is 'email' / 'emailAddress' there.
LDAP_NAMES: dict[ObjectIdentifier, str] = {**DISPLAY_NAMES, NameOID.EMAIL_ADDRESS: "emailAddress"}

_KEY_USAGE_FLAGS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)
_AGREEMENT_FLAGS = (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly"))
_RFC4514_SPECIALS = str.maketrans({c: "\\" + c for c in '\\"+,;<>'} | {"\0": "\\00"})


@dataclass(frozen=True)
class CertificateInfo:
    """A certificate's facts as shown to people and stored alongside a binding."""

    subject: str
    issuer: str
    common_name: str | None
    serial: int
    serial_hex: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    key_usages: tuple[str, ...]
    emails: tuple[str, ...]

    @classmethod
    def from_certificate(cls, cert: x509.Certificate) -> CertificateInfo:
        """Describe a parsed certificate."""
        return cls(
            subject=display_name(cert.subject),
            issuer=display_name(cert.issuer),
            common_name=common_name(cert.subject),
            serial=cert.serial_number,
            serial_hex=serial_hex(cert.serial_number),
            fingerprint_sha256=fingerprint_sha256(cert),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            key_usages=key_usage_names(cert),
            emails=certificate_emails(cert),
        )

    def status(self, now: datetime, expiring_days: int = 30, revoked: bool = False) -> Status:
        """Where the certificate stands at `now` (an aware datetime)."""
        require_aware(now)
        if revoked:
            return "revoked"
        if now < self.not_before:
            return "not_yet_valid"
        if now > self.not_after:
            return "expired"
        if self.not_after - now <= timedelta(days=expiring_days):
            return "expiring"
        return "valid"


def require_aware(now: datetime) -> None:
    """Refuse a naive datetime: certificate times are UTC instants."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("`now` must be a timezone-aware datetime")


def display_name(name: x509.Name) -> str:
    """Every RDN, most specific first, e.g. `CN=Nguyễn Văn An, OU=Phòng CNTT, ..., C=VN`."""
    return format_name(name, DISPLAY_NAMES, ", ")


def format_name(name: x509.Name, labels: dict[ObjectIdentifier, str], separator: str) -> str:
    """RFC 4514 order and escaping (UTF-8 kept); multi-valued RDNs joined with '+'."""
    return separator.join(
        "+".join(_format_attribute(attribute, labels) for attribute in rdn)
        for rdn in reversed(name.rdns)
    )


def _format_attribute(attribute: x509.NameAttribute, labels: dict[ObjectIdentifier, str]) -> str:
    label = labels.get(attribute.oid, attribute.oid.dotted_string)
    return f"{label}={escape_value(attribute.value)}"


def escape_value(value: str | bytes) -> str:
    """Escape an attribute value per RFC 4514 section 2.4 (non-ASCII left as UTF-8)."""
    if isinstance(value, bytes):
        return "#" + value.hex()
    escaped = value.translate(_RFC4514_SPECIALS)
    if value.startswith(("#", " ")):
        escaped = "\\" + escaped
    if value.endswith(" ") and len(value) > 1:
        escaped = escaped[:-1] + "\\ "
    return escaped


def common_name(name: x509.Name) -> str | None:
    """The most specific CN of a name, if any."""
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[-1].value) if values else None


def name_label(name: x509.Name) -> str:
    """A short way to name a certificate in a message: its CN, else the whole name."""
    return common_name(name) or display_name(name)


def serial_hex(serial: int) -> str:
    """Upper-case hexadecimal with an even number of digits, as certificate viewers show it."""
    digits = format(serial, "X")
    return digits.zfill(len(digits) + len(digits) % 2)


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as colon-separated upper-case hex pairs."""
    return ":".join(f"{byte:02X}" for byte in cert.fingerprint(hashes.SHA256()))


def key_usage_names(cert: x509.Certificate) -> tuple[str, ...]:
    """KeyUsage bits set, by their RFC 5280 names; empty when the extension is absent."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    names = [label for attribute, label in _KEY_USAGE_FLAGS if getattr(usage, attribute)]
    if usage.key_agreement:  # encipherOnly/decipherOnly exist only alongside keyAgreement
        names += [label for attribute, label in _AGREEMENT_FLAGS if getattr(usage, attribute)]
    return tuple(names)


def certificate_emails(cert: x509.Certificate) -> tuple[str, ...]:
    """Mail addresses from the subject's E= and the SAN rfc822Name entries, lower-cased, unique."""
    found = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        found += san.get_values_for_type(x509.RFC822Name)
    return tuple(dict.fromkeys(address.strip().lower() for address in found if address.strip()))


def ldap_exact_assertion(cert: x509.Certificate) -> str:
    """The certificateExactMatch assertion `SERIAL$ISSUER` that finds this certificate in slapd.

    SERIAL is the decimal serial number; ISSUER is the issuer DN as an RFC 4514 string (most
    specific RDN first, ',' between RDNs, '+' inside multi-valued RDNs, RFC 4514 escapes, UTF-8
    values, attribute names slapd's schema knows: E= becomes emailAddress=). slapd accepts this
    "old" form as well as RFC 4523's GSER form
    `{ serialNumber 123, issuer rdnSequence:"CN=...,C=VN" }` and normalises case and spacing.
    Use it as `(userCertificate:certificateExactMatch:=<value>)` after escaping it for a filter
    (RFC 4515: `*`, `(`, `)`, `\\`, NUL), e.g. with ldap3's `escape_filter_chars`.

    Checked against Debian's slapd 2.5.13: it matches for every ASCII-only issuer DN, but NEVER
    for an issuer DN with non-ASCII characters (e.g. "O=Ban Cơ yếu Chính phủ"): slapd normalises
    the stored certificate's issuer with UTF-8 bytes hex-escaped (`cn=b\\C3\\A9`) and the
    assertion's with raw UTF-8 (`cn=bé`), in GSER form too. A certificate whose issuer DN holds an
    attribute type unknown to slapd's schema cannot be stored as userCertificate at all
    ("Invalid syntax (21)"). Finding the owner of a government certificate therefore needs
    another key, e.g. the SHA-256 fingerprint (`CertificateInfo.fingerprint_sha256`) kept in an
    indexed attribute of the project schema.
    """
    return f"{cert.serial_number}${format_name(cert.issuer, LDAP_NAMES, ',')}"
