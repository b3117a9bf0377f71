"""Finding the account of a certificate: fingerprint, issuer + serial, certificateExactMatch."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from mailadmin.certs import ldap_exact_assertion
from mailadmin.certs.keys import issuer_serial_key
from mailadmin.directory import filters
from mailadmin.model import Role, Unit
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.wiring import Services

from . import factory as f
from .helpers import cert_for, certificate_service, person


@pytest.fixture(scope="module")
def public() -> f.Hierarchy:
    """A public CA with ASCII names only."""
    root = f.issue(ascii_name("Example Public Root CA"), ca=True, usage=f.key_usage(**f.CA_USAGE))
    issuing = f.issue(ascii_name("Example Issuing CA 1"), issuer=root, ca=True, usage=f.key_usage(**f.CA_USAGE))
    return f.Hierarchy(root, issuing, [root.cert])


def ascii_name(common_name: str) -> x509.Name:
    """CN=<common_name>, O=Example Trust Services, C=VN."""
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Trust Services"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@pytest.fixture
def both(services: Services, gov: f.Hierarchy, public: f.Hierarchy, tmp_path: Path) -> CertificateService:
    """Trusting the government root and the public root (a PEM bundle file this time)."""
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(f.pem(gov.root.cert, public.root.cert))
    return certificate_service(services, trust_anchors=str(bundle))


def uids_by_filter(services: Services, condition: str) -> list[str]:
    """What an LDAP client (a mail server) finds with this filter."""
    return [e.text("uid") for e in services.client.search(services.client.base_dn, condition, attributes=["uid"])]


def test_whois_vietnamese_issuer_by_fingerprint_and_issuer_serial(
        services: Services, both: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner)
    both.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)
    [found] = both.whois(f.der(issued.cert))
    assert (found.uid, found.mail, found.unit_code) == (owner.uid, owner.mail, unit.code)
    assert found.matched_by == ("fingerprint", "issuer_serial")
    key = issuer_serial_key(issued.cert)
    assert uids_by_filter(services, f"(maCertIssuerSerial={key})") == [owner.uid]
    assert uids_by_filter(services, f"(maCertIssuerSerial={key.upper()})") == [owner.uid]  # caseIgnoreMatch
    fingerprint = both.show(owner.uid, now=f.NOW)[0].info.fingerprint_sha256
    assert uids_by_filter(services, filters.eq("maCertFingerprint", fingerprint.lower())) == [owner.uid]


def test_slapd_certificate_exact_match_misses_vietnamese_issuers(
        services: Services, both: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    """The trap in docs/directory.md: if slapd ever fixes it, this test says so."""
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner)
    both.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)
    assertion = ldap_exact_assertion(issued.cert)
    assert not assertion.isascii()
    assert both.store.by_exact_assertion(assertion) == []


def test_whois_ascii_issuer_by_every_lookup_including_certificate_exact_match(
        services: Services, both: CertificateService, public: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    issued = cert_for(public.issuing, owner)
    both.bind(owner.uid, f.pem(issued.cert, public.issuing.cert), now=f.NOW)
    [found] = both.whois(f.pem(issued.cert))
    assert found.uid == owner.uid
    assert found.matched_by == ("fingerprint", "issuer_serial", "certificate_exact_match")
    exact = f"(userCertificate:certificateExactMatch:={ldap_exact_assertion(issued.cert)})"
    assert uids_by_filter(services, exact) == [owner.uid]


def test_whois_of_an_unbound_certificate_and_outside_the_scope(
        services: Services, both: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner)
    assert both.whois(f.pem(issued.cert)) == []
    both.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)
    outsider = Principal("x", "X", frozenset({Role.UNITADMIN}), (("54", "555"),))
    assert both.whois(f.pem(issued.cert), principal=outsider) == []
    insider = Principal("y", "Y", frozenset({Role.UNITADMIN}), (unit.path,))
    assert [o.uid for o in both.whois(f.pem(issued.cert), principal=insider)] == [owner.uid]
