"""Build a test CA hierarchy (government-style names, EC P-256 keys) with cryptography."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from mailadmin.i18n import Text

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
ROOT_CN = "RootCA chuyên dùng Chính phủ G2"
ISSUING_CN = "CA phục vụ các cơ quan Nhà nước G2"
GOV_ORG = "Ban Cơ yếu Chính phủ"
LEAF_EMAIL = "annv@phuyen.gov.vn"
LEAF_UID = "CCCD:054090001234"
LEAF_SUBJECT_TEXT = (
    "CN=Nguyễn Văn An, OU=Phòng CNTT, OU=Sở Thông tin và Truyền thông, O=UBND tỉnh Phú Yên,"
    " E=annv@phuyen.gov.vn, UID=CCCD:054090001234, C=VN"
)
ISSUING_SUBJECT_TEXT = f"CN={ISSUING_CN}, O={GOV_ORG}, C=VN"

SIGNING = {"digital_signature": True, "content_commitment": True}
CA_USAGE = {"key_cert_sign": True, "crl_sign": True}


@dataclass(frozen=True)
class Issued:
    """A certificate together with its private key."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes


@dataclass(frozen=True)
class Hierarchy:
    """Root → issuing CA, both valid around NOW."""

    root: Issued
    issuing: Issued
    anchors: list[x509.Certificate] = field(default_factory=list)


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key (fast to generate)."""
    return ec.generate_private_key(ec.SECP256R1())


def ca_name(common_name: str) -> x509.Name:
    """CN=<common_name>, O=Ban Cơ yếu Chính phủ, C=VN."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, GOV_ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def official_name(
    common_name: str = "Nguyễn Văn An",
    units: Sequence[str] = ("Sở Thông tin và Truyền thông", "Phòng CNTT"),
    email: str | None = LEAF_EMAIL,
    uid: str | None = LEAF_UID,
) -> x509.Name:
    """An official's subject, in DER order C, UID, E, O, OU (outer unit first), CN."""
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if uid is not None:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, uid))
    if email is not None:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND tỉnh Phú Yên"))
    attributes += [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, u) for u in units]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def key_usage(**flags: bool) -> x509.KeyUsage:
    """A KeyUsage with the named flags set and every other flag off."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    unknown = set(flags) - set(names)
    if unknown:
        raise TypeError(f"unknown key usage flags: {sorted(unknown)}")
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def issue(
    subject: x509.Name,
    *,
    issuer: Issued | None = None,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    ca: bool = False,
    path_length: int | None = None,
    usage: x509.KeyUsage | None = None,
    emails: Sequence[str] = (),
    not_before: datetime = NOW - timedelta(days=365),
    not_after: datetime = NOW + timedelta(days=365),
    serial: int | None = None,
    basic_constraints: bool = True,
) -> Issued:
    """Sign a certificate; issuer=None makes it self-signed."""
    key = key or new_key()
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if basic_constraints:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
        )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    if emails:
        san = x509.SubjectAlternativeName([x509.RFC822Name(e) for e in emails])
        builder = builder.add_extension(san, critical=False)
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


def root_ca(common_name: str = ROOT_CN, **options: Any) -> Issued:
    """A self-signed root CA (options as for `issue`)."""
    settings: dict[str, Any] = {"ca": True, "usage": key_usage(**CA_USAGE), **options}
    return issue(ca_name(common_name), **settings)


def sub_ca(issuer: Issued, common_name: str = ISSUING_CN, **options: Any) -> Issued:
    """An intermediate CA signed by `issuer` (options as for `issue`)."""
    settings: dict[str, Any] = {"ca": True, "usage": key_usage(**CA_USAGE), **options}
    return issue(ca_name(common_name), issuer=issuer, **settings)


def official(issuer: Issued, subject: x509.Name | None = None, **options: Any) -> Issued:
    """An official's signing certificate: Vietnamese subject with E= and UID=, mail in SAN."""
    settings: dict[str, Any] = {"usage": key_usage(**SIGNING), "emails": (LEAF_EMAIL,), **options}
    return issue(subject or official_name(), issuer=issuer, **settings)


def hierarchy() -> Hierarchy:
    """The government root and its issuing CA, with the root as the only trust anchor."""
    root = root_ca()
    issuing = sub_ca(root)
    return Hierarchy(root, issuing, [root.cert])


def crl(
    issuer: Issued,
    revoked_serials: Sequence[int] = (),
    *,
    this_update: datetime = NOW - timedelta(days=1),
    next_update: datetime = NOW + timedelta(days=6),
    signing_key: ec.EllipticCurvePrivateKey | None = None,
) -> x509.CertificateRevocationList:
    """A CRL named after `issuer`, signed by its key unless `signing_key` forges it."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
    )
    for serial in revoked_serials:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - timedelta(days=10))
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(signing_key or issuer.key, hashes.SHA256())


def pem(*certs: x509.Certificate) -> bytes:
    """PEM text of the certificates, concatenated."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def der(cert: x509.Certificate) -> bytes:
    """DER bytes of one certificate."""
    return cert.public_bytes(serialization.Encoding.DER)


def p7b(certs: Sequence[x509.Certificate], encoding: serialization.Encoding) -> bytes:
    """A PKCS#7 certificate bundle (.p7b) in PEM or DER."""
    return pkcs7.serialize_certificates(list(certs), encoding)


def english(messages: Sequence[Text]) -> str:
    """All messages rendered in English, one per line."""
    return "\n".join(m.render("en") for m in messages)


def vietnamese(messages: Sequence[Text]) -> str:
    """All messages rendered in Vietnamese, one per line."""
    return "\n".join(m.render("vi") for m in messages)
