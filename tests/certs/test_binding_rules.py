"""Every validation rule through CertificateService.bind: refused with its reason, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mailadmin.errors import ConfigError, InvalidInput, PermissionDenied
from mailadmin.model import Mailbox, Role, Unit
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services

from . import factory as f
from .helpers import cert_for, certificate_service, person

Upload = Callable[[f.Hierarchy, Mailbox], bytes]


def _chain(issued: f.Issued, gov: f.Hierarchy) -> bytes:
    return f.pem(issued.cert, gov.issuing.cert)


RULES: dict[str, tuple[Upload, str]] = {
    "expired": (lambda g, m: _chain(cert_for(g.issuing, m, not_before=f.NOW - timedelta(days=800),
                                             not_after=f.NOW - timedelta(days=1)), g), "expired on 2025-05-31"),
    "not yet valid": (lambda g, m: _chain(cert_for(g.issuing, m, not_before=f.NOW + timedelta(days=2)), g),
                      "is not valid yet"),
    "wrong key usage": (lambda g, m: _chain(cert_for(g.issuing, m, usage=f.key_usage(key_encipherment=True)), g),
                        "KeyUsage must include digitalSignature or nonRepudiation"),
    "untrusted root": (lambda g, m: f.pem(cert_for(f.sub_ca(f.root_ca("RootCA giả mạo")), m).cert),
                       "is not trusted"),
    "intermediate missing": (lambda g, m: f.pem(cert_for(g.issuing, m).cert), "was not uploaded with the chain"),
    "mail of someone else": (lambda g, m: _chain(f.official(g.issuing, emails=("khac@phuyen.gov.vn",),
                                                            subject=f.official_name(email=None)), g),
                             "does not match the mailbox"),
    "no mail at all": (lambda g, m: _chain(f.official(g.issuing, emails=(), subject=f.official_name(email=None)), g),
                       "carries no e-mail address"),
    "garbage": (lambda g, m: b"\x00\x01 this is not a certificate", "not in an accepted format"),
    "truncated": (lambda g, m: f.der(cert_for(g.issuing, m).cert)[:200], "truncated"),
    "huge": (lambda g, m: b"A" * (300 * 1024), "too large"),
    "private key": (lambda g, m: f.new_key().private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()), "Never upload private keys"),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_refuses_and_writes_nothing(rule: str, services: Services, certificates: CertificateService,
                                         gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    make, english = RULES[rule]
    with pytest.raises(InvalidInput) as refused:
        certificates.bind(owner.uid, make(gov, owner), now=f.NOW)
    assert english in refused.value.message.render("en")
    assert refused.value.message.render("vi") != refused.value.message.render("en")
    assert services.mailboxes.get(owner.uid).certificates == ()


def test_revoked_in_the_configured_crl(services: Services, anchors_dir: Path, gov: f.Hierarchy, unit: Unit,
                                       tmp_path: Path) -> None:
    owner = person(services, unit)
    issued = cert_for(gov.issuing, owner)
    crl_file = tmp_path / "ca.crl"
    crl_file.write_bytes(f.crl(gov.issuing, [issued.cert.serial_number]).public_bytes(serialization.Encoding.PEM))
    service = certificate_service(services, trust_anchors=str(anchors_dir), crl_files=(str(crl_file),))
    with pytest.raises(InvalidInput, match="was revoked by CA phục vụ các cơ quan Nhà nước G2"):
        service.bind(owner.uid, _chain(issued, gov), now=f.NOW)
    assert services.mailboxes.get(owner.uid).certificates == ()


def test_mail_matching_an_alias_and_the_warn_and_ignore_policies(services: Services, anchors_dir: Path,
                                                                 gov: f.Hierarchy, unit: Unit) -> None:
    aliased = services.mailboxes.add(NewMailbox(full_name="Phạm Văn Bí Danh", unit_code=unit.code,
                                                aliases=(f"bidanh{unit.code.lower()}@phuyen.gov.vn",))).mailbox
    by_alias = f.official(gov.issuing, emails=(aliased.aliases[0],), subject=f.official_name(email=None))
    strict = certificate_service(services, trust_anchors=str(anchors_dir))
    assert strict.bind(aliased.uid, _chain(by_alias, gov), now=f.NOW)[1] == []
    stranger = f.official(gov.issuing, emails=("khac@phuyen.gov.vn",), subject=f.official_name(email=None))
    warn = certificate_service(services, trust_anchors=str(anchors_dir), mail_policy="warn")
    _, warnings = warn.bind(person(services, unit).uid, _chain(stranger, gov), now=f.NOW)
    assert [w.render("en") for w in warnings] == [
        "The e-mail in the certificate (khac@phuyen.gov.vn) does not match the mailbox"
        f" ({warnings[0].params['mailbox']})."]
    other = f.official(gov.issuing, emails=("khac2@phuyen.gov.vn",), subject=f.official_name(email=None))
    ignore = certificate_service(services, trust_anchors=str(anchors_dir), mail_policy="ignore")
    assert ignore.bind(person(services, unit).uid, _chain(other, gov), now=f.NOW)[1] == []


def test_configuration_errors_are_clean(services: Services, anchors_dir: Path, gov: f.Hierarchy, unit: Unit,
                                       tmp_path: Path) -> None:
    owner = person(services, unit)
    upload = _chain(cert_for(gov.issuing, owner), gov)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="No trust anchor certificate"):
        certificate_service(services, trust_anchors=str(empty)).bind(owner.uid, upload, now=f.NOW)
    with pytest.raises(ConfigError, match="certificates.mail_policy must be one of"):
        certificate_service(services, trust_anchors=str(empty), mail_policy="maybe").check(owner.uid, upload)
    with pytest.raises(ConfigError, match="cannot read the CRL"):
        certificate_service(services, trust_anchors=str(anchors_dir),
                            crl_files=(str(tmp_path / "none.crl"),)).check(owner.uid, upload)


def test_scope_checks_for_admins_auditors_and_owners(services: Services, certificates: CertificateService,
                                                     gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    upload = _chain(cert_for(gov.issuing, owner), gov)
    outsider = Principal("x", "X", frozenset({Role.UNITADMIN}), (("54", "555"),))
    auditor = Principal("y", "Y", frozenset({Role.AUDITOR}))
    with pytest.raises(PermissionDenied, match=f"no rights on the unit {unit.name}"):
        certificates.bind(owner.uid, upload, principal=outsider, now=f.NOW)
    with pytest.raises(PermissionDenied):
        certificates.bind(owner.uid, upload, principal=auditor, now=f.NOW)
    self_service = Principal(owner.uid, owner.name.full, frozenset())
    bound, _ = certificates.bind(owner.uid, upload, principal=self_service, now=f.NOW)
    assert [b.der for b in certificates.show(owner.uid, principal=auditor)] == [bound.der]
    with pytest.raises(PermissionDenied):
        certificates.show(owner.uid, principal=outsider)
    with pytest.raises(PermissionDenied):
        certificates.unbind(owner.uid, bound.info.fingerprint_sha256, principal=outsider)
    admin = Principal("z", "Z", frozenset({Role.UNITADMIN}), (unit.path,))
    certificates.unbind(owner.uid, bound.info.fingerprint_sha256, principal=admin)
