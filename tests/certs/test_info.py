"""CertificateInfo, display names, status and the LDAP exact-match assertion."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

from mailadmin.certs.info import CertificateInfo, display_name, ldap_exact_assertion

from . import factory as f

A = x509.NameAttribute


def info(issued: f.Issued) -> CertificateInfo:
    return CertificateInfo.from_certificate(issued.cert)


def test_subject_shows_every_rdn_most_specific_first(leaf: f.Issued) -> None:
    assert info(leaf).subject == f.LEAF_SUBJECT_TEXT


def test_issuer_display(leaf: f.Issued) -> None:
    assert info(leaf).issuer == (
        "CN=CA phục vụ các cơ quan Nhà nước G2, O=Ban Cơ yếu Chính phủ, C=VN"
    )


def test_common_name(leaf: f.Issued) -> None:
    assert info(leaf).common_name == "Nguyễn Văn An"


def test_multi_valued_rdn_is_joined_with_plus() -> None:
    name = x509.Name(
        [
            x509.RelativeDistinguishedName([A(NameOID.COUNTRY_NAME, "VN")]),
            x509.RelativeDistinguishedName(
                [A(NameOID.COMMON_NAME, "Trần Thị Bình"), A(NameOID.USER_ID, "CCCD:079190000001")]
            ),
        ]
    )
    assert display_name(name) == "CN=Trần Thị Bình+UID=CCCD:079190000001, C=VN"


def test_short_names_and_unknown_oids() -> None:
    name = x509.Name(
        [
            A(NameOID.COUNTRY_NAME, "VN"),
            A(NameOID.STATE_OR_PROVINCE_NAME, "Phú Yên"),
            A(NameOID.LOCALITY_NAME, "Tuy Hòa"),
            A(NameOID.SERIAL_NUMBER, "MST:4400123456"),
            A(ObjectIdentifier("1.3.6.1.4.1.99999.1"), "giá trị lạ"),
            A(NameOID.COMMON_NAME, "Sở Tài chính"),
        ]
    )
    assert display_name(name) == (
        "CN=Sở Tài chính, 1.3.6.1.4.1.99999.1=giá trị lạ, serialNumber=MST:4400123456,"
        " L=Tuy Hòa, ST=Phú Yên, C=VN"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Sở Nội vụ, Phú Yên", "Sở Nội vụ\\, Phú Yên"),
        ("A+B", "A\\+B"),
        ('"Q"; <x> \\', '\\"Q\\"\\; \\<x\\> \\\\'),
        ("#1", "\\#1"),
        (" lề ", "\\ lề\\ "),
    ],
)
def test_rfc4514_escaping(value: str, shown: str) -> None:
    assert display_name(x509.Name([A(NameOID.ORGANIZATION_NAME, value)])) == f"O={shown}"


def test_serial_as_int_and_hex(gov: f.Hierarchy) -> None:
    described = info(f.official(gov.issuing, serial=0xABC))
    assert (described.serial, described.serial_hex) == (2748, "0ABC")


def test_fingerprint_is_colon_hex_sha256(leaf: f.Issued) -> None:
    digest = hashlib.sha256(f.der(leaf.cert)).hexdigest().upper()
    expected = ":".join(digest[i : i + 2] for i in range(0, 64, 2))
    assert info(leaf).fingerprint_sha256 == expected


def test_dates_are_aware_utc(gov: f.Hierarchy) -> None:
    start = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    described = info(f.official(gov.issuing, not_before=start, not_after=start + timedelta(1)))
    assert described.not_before == start and described.not_before.tzinfo is not None
    assert described.not_after == start + timedelta(days=1)


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (f.SIGNING, ("digitalSignature", "nonRepudiation")),
        ({"key_encipherment": True}, ("keyEncipherment",)),
        (
            {"key_agreement": True, "encipher_only": True},
            ("keyAgreement", "encipherOnly"),
        ),
        (f.CA_USAGE, ("keyCertSign", "cRLSign")),
    ],
)
def test_key_usages(gov: f.Hierarchy, flags: dict[str, bool], names: tuple[str, ...]) -> None:
    assert info(f.official(gov.issuing, usage=f.key_usage(**flags))).key_usages == names


def test_no_key_usage_extension(gov: f.Hierarchy) -> None:
    assert info(f.official(gov.issuing, usage=None)).key_usages == ()


def test_emails_from_subject_and_san_lower_cased_and_unique(gov: f.Hierarchy) -> None:
    subject = f.official_name(email="AnNV@PhuYen.gov.vn")
    cert = f.official(
        gov.issuing, subject=subject, emails=("annv@phuyen.gov.vn", "An.NV@sotttt.phuyen.gov.vn")
    )
    assert info(cert).emails == ("annv@phuyen.gov.vn", "an.nv@sotttt.phuyen.gov.vn")


def test_emails_from_san_only(gov: f.Hierarchy) -> None:
    cert = f.official(gov.issuing, subject=f.official_name(email=None))
    assert info(cert).emails == (f.LEAF_EMAIL,)


def test_no_emails(gov: f.Hierarchy) -> None:
    cert = f.official(gov.issuing, subject=f.official_name(email=None), emails=())
    assert info(cert).emails == ()


def test_info_is_frozen(leaf: f.Issued) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        info(leaf).serial = 1  # type: ignore[misc]


# --- status -------------------------------------------------------------------------------

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.fixture(scope="module")
def dated() -> CertificateInfo:
    issuing = f.sub_ca(f.root_ca())
    return info(f.official(issuing, not_before=START, not_after=END))


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (START - SECOND, "not_yet_valid"),
        (START, "valid"),
        (END - timedelta(days=30) - SECOND, "valid"),
        (END - timedelta(days=30), "expiring"),
        (END, "expiring"),
        (END + SECOND, "expired"),
    ],
)
def test_status(dated: CertificateInfo, now: datetime, status: str) -> None:
    assert dated.status(now) == status


def test_status_with_another_time_zone(dated: CertificateInfo) -> None:
    hanoi = timezone(timedelta(hours=7))
    assert dated.status(datetime(2025, 1, 1, 6, 59, tzinfo=hanoi)) == "not_yet_valid"
    assert dated.status(datetime(2025, 1, 1, 7, 0, tzinfo=hanoi)) == "valid"


def test_status_expiring_window_is_configurable(dated: CertificateInfo) -> None:
    now = END - timedelta(days=45)
    assert dated.status(now) == "valid"
    assert dated.status(now, expiring_days=60) == "expiring"


@pytest.mark.parametrize("now", [START - SECOND, START, END + SECOND])
def test_revoked_wins(dated: CertificateInfo, now: datetime) -> None:
    assert dated.status(now, revoked=True) == "revoked"


def test_status_refuses_naive_time(dated: CertificateInfo) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dated.status(datetime(2025, 6, 1))


# --- LDAP assertion -----------------------------------------------------------------------


def test_ldap_exact_assertion(gov: f.Hierarchy) -> None:
    cert = f.official(gov.issuing, serial=0x1234ABCD).cert
    assert ldap_exact_assertion(cert) == (
        "305441741$CN=CA phục vụ các cơ quan Nhà nước G2,O=Ban Cơ yếu Chính phủ,C=VN"
    )


def test_ldap_exact_assertion_names_and_escapes_for_slapd() -> None:
    issuer_name = x509.Name(
        [
            A(NameOID.COUNTRY_NAME, "VN"),
            A(NameOID.ORGANIZATION_NAME, "VNPT, Tập đoàn"),
            A(NameOID.EMAIL_ADDRESS, "ca@vnpt.vn"),
            A(NameOID.COMMON_NAME, "VNPT Certification Authority"),
        ]
    )
    issuer = f.issue(issuer_name, ca=True, usage=f.key_usage(**f.CA_USAGE))
    cert = f.official(issuer, serial=42).cert
    assert ldap_exact_assertion(cert) == (
        "42$CN=VNPT Certification Authority,emailAddress=ca@vnpt.vn,O=VNPT\\, Tập đoàn,C=VN"
    )
