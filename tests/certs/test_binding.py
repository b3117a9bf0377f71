"""Binding, showing and unbinding certificates on mailboxes, against the real slapd."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mailadmin.errors import Conflict, InvalidInput, NotFound
from mailadmin.model import Unit
from mailadmin.services.certificates import CertificateService
from mailadmin.wiring import Services

from . import factory as f
from .helpers import cert_for, certificate_service, person


def chain_pem(gov: f.Hierarchy, issued: f.Issued) -> bytes:
    """The personal certificate followed by its issuing CA, as an official would upload it."""
    return f.pem(issued.cert, gov.issuing.cert)


def raw_entry(services: Services, uid: str) -> dict[str, list[bytes]]:
    """The mailbox entry's certificate attributes straight from slapd."""
    dn = services.mailboxes.store.find_entry(uid).dn
    entry = services.client.get(dn, ["userCertificate;binary", "maCertFingerprint", "maCertIssuerSerial",
                                     "objectClass"])
    assert entry is not None
    return entry.attributes


def test_bind_stores_the_certificate_and_its_keys(services: Services, certificates: CertificateService,
                                                  gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner)
    bound, warnings = certificates.bind(owner.uid, chain_pem(gov, issued), now=f.NOW)
    assert warnings == []
    stored = raw_entry(services, owner.uid)
    assert stored["usercertificate"] == [f.der(issued.cert)]
    assert stored["macertfingerprint"] == [bound.info.fingerprint_sha256.encode()]
    assert stored["macertissuerserial"] == [
        f"{issued.cert.serial_number}$cn=ca phục vụ các cơ quan nhà nước g2,o=ban cơ yếu chính phủ,c=vn".encode()]
    assert b"maCertificateHolder" in stored["objectclass"]
    [shown] = certificates.show(owner.uid, now=f.NOW)
    assert shown.status == "valid" and shown.der == f.der(issued.cert)
    assert shown.info.subject.startswith(f"CN={owner.name.full}, OU=Phòng CNTT")
    assert shown.info.issuer == f.ISSUING_SUBJECT_TEXT and shown.info.key_usages == ("digitalSignature",
                                                                                     "nonRepudiation")
    last = list(services.audit.entries())[-1]
    assert (last.action, last.target) == ("certificate.bind", owner.uid)
    assert last.after["fingerprint_sha256"] == bound.info.fingerprint_sha256


def test_several_certificates_per_account_renewal(services: Services, certificates: CertificateService,
                                                  gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    old = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=20))
    new = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=700))
    certificates.bind(owner.uid, chain_pem(gov, old), now=f.NOW)
    certificates.bind(owner.uid, f.p7b([gov.issuing.cert, new.cert], serialization.Encoding.DER), now=f.NOW)
    shown = certificates.show(owner.uid, now=f.NOW)
    assert [s.der for s in shown] == [f.der(new.cert), f.der(old.cert)]
    assert [s.status for s in shown] == ["valid", "expiring"]
    assert len(raw_entry(services, owner.uid)["macertfingerprint"]) == 2


def test_second_binding_to_the_same_account_is_refused(services: Services, certificates: CertificateService,
                                                       gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    upload = chain_pem(gov, cert_for(gov.issuing, owner))
    certificates.bind(owner.uid, upload, now=f.NOW)
    with pytest.raises(InvalidInput) as refused:
        certificates.bind(owner.uid, upload, now=f.NOW)
    assert f"already bound to account {owner.uid}" in refused.value.message.render("en")
    assert f"đã được gắn với tài khoản {owner.uid}" in refused.value.message.render("vi")
    assert len(raw_entry(services, owner.uid)["usercertificate"]) == 1


def test_binding_to_another_account_is_refused_by_us_and_by_the_server(
        services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    first, second = person(services, unit), person(services, unit, "Trần Thị Bình")
    issued = cert_for(gov.issuing, first)
    certificates.bind(first.uid, chain_pem(gov, issued), now=f.NOW)
    lenient = certificate_service(services, trust_anchors=certificates.config.trust_anchors, mail_policy="ignore")
    with pytest.raises(InvalidInput, match=f"already bound to account {first.uid}"):
        lenient.bind(second.uid, chain_pem(gov, issued), now=f.NOW)
    # Two writers racing past the check: the unique overlay refuses the second fingerprint.
    from mailadmin.certs.keys import fingerprint_key, issuer_serial_key
    entry = lenient.store.entry(services.mailboxes.store.find_entry(second.uid).dn)
    assert entry is not None
    with pytest.raises(Conflict):
        lenient.store.bind(entry, f.der(issued.cert), fingerprint_key(issued.cert), issuer_serial_key(issued.cert))
    assert "usercertificate" not in raw_entry(services, second.uid)


def test_unbind(services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    owner, other = person(services, unit), person(services, unit, "Lê Văn Cường")
    issued = cert_for(gov.issuing, owner)
    kept = cert_for(gov.issuing, owner)
    bound, _ = certificates.bind(owner.uid, chain_pem(gov, issued), now=f.NOW)
    certificates.bind(owner.uid, chain_pem(gov, kept), now=f.NOW)
    typed = bound.info.fingerprint_sha256.replace(":", "").lower()  # any spelling of the fingerprint
    removed = certificates.unbind(owner.uid, typed, now=f.NOW)
    assert removed.der == f.der(issued.cert)
    stored = raw_entry(services, owner.uid)
    assert stored["usercertificate"] == [f.der(kept.cert)] and len(stored["macertissuerserial"]) == 1
    assert [e.action for e in services.audit.entries()][-1] == "certificate.unbind"
    with pytest.raises(NotFound, match=f"mailbox {owner.uid} has no certificate"):
        certificates.unbind(owner.uid, bound.info.fingerprint_sha256)
    with pytest.raises(InvalidInput, match="Invalid SHA-256 fingerprint"):
        certificates.unbind(owner.uid, "AB:CD")
    lenient = certificate_service(services, trust_anchors=certificates.config.trust_anchors, mail_policy="ignore")
    lenient.bind(other.uid, chain_pem(gov, issued), now=f.NOW)  # free again after the unbind
    assert [s.der for s in certificates.show(other.uid, now=f.NOW)] == [f.der(issued.cert)]


def test_status_expired_and_revoked(services: Services, anchors_dir: Path, gov: f.Hierarchy, unit: Unit,
                                    tmp_path: Path) -> None:
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=60))
    plain = certificate_service(services, trust_anchors=str(anchors_dir))
    plain.bind(owner.uid, chain_pem(gov, issued), now=f.NOW)
    assert [s.status for s in plain.show(owner.uid, now=f.NOW + timedelta(days=61))] == ["expired"]
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(f.crl(gov.issuing, [issued.cert.serial_number]).public_bytes(serialization.Encoding.DER))
    with_crl = certificate_service(services, trust_anchors=str(anchors_dir), crl_files=(str(crl_file),))
    assert [s.status for s in with_crl.show(owner.uid, now=f.NOW)] == ["revoked"]
