"""`expiring`: who must renew, soonest first, with the unit admins to remind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from mailadmin.directory.certificates import CertificateStore
from mailadmin.directory.client import DirectoryClient
from mailadmin.errors import InvalidInput
from mailadmin.model import Mailbox, Role, Unit
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.wiring import Services

from . import factory as f
from .helpers import cert_for, certificate_service, person


def bind_ending(certificates: CertificateService, gov: f.Hierarchy, owner: Mailbox, days: int) -> None:
    """Bind a certificate of `owner` that ends `days` after NOW."""
    issued = cert_for(gov.issuing, owner, not_after=f.NOW + timedelta(days=days))
    certificates.bind(owner.uid, f.pem(issued.cert, gov.issuing.cert), now=f.NOW)


def test_expiring_within_the_horizon_with_owner_and_unit_admins(
        services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    soon, later = person(services, unit), person(services, unit, "Võ Thị Sau")
    renewed = person(services, unit, "Đỗ Mới")
    admin = person(services, unit, "Quản Trị Viên")
    services.roles.set(services.mailboxes.store.find_entry(admin.uid).dn, frozenset({Role.UNITADMIN}), (unit.path,))
    bind_ending(certificates, gov, soon, 10)
    bind_ending(certificates, gov, later, 100)
    bind_ending(certificates, gov, renewed, 5)
    bind_ending(certificates, gov, renewed, 400)  # the renewal is already bound
    scoped = Principal(admin.uid, "", frozenset({Role.UNITADMIN}), (unit.path,))
    found = certificates.expiring(30, principal=scoped, now=f.NOW)
    assert [(e.owner.uid, e.days_left, e.certificate.status) for e in found] == [(soon.uid, 10, "expiring")]
    [item] = found
    assert item.owner.mail == soon.mail and item.unit_code == unit.code
    assert [(a.uid, a.mail) for a in item.admins] == [(admin.uid, admin.mail)]
    record = item.record()
    assert record["owner"]["uid"] == soon.uid and record["admins"][0]["uid"] == admin.uid
    everything = certificates.expiring(30, principal=scoped, now=f.NOW, include_renewed=True)
    assert [e.owner.uid for e in everything] == [renewed.uid, soon.uid]
    assert [e.renewed for e in everything] == [True, False]
    later_on = certificates.expiring(0, principal=scoped, now=f.NOW + timedelta(days=50))
    assert [(e.owner.uid, e.certificate.status) for e in later_on] == [(soon.uid, "expired")]


def test_expiring_is_limited_to_what_the_principal_may_read(
        services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit) -> None:
    owner = person(services, unit)
    bind_ending(certificates, gov, owner, 3)
    elsewhere = Principal("x", "X", frozenset({Role.UNITADMIN}), (("54", "557"),))
    assert owner.uid not in {e.owner.uid for e in certificates.expiring(30, principal=elsewhere, now=f.NOW)}
    auditor = Principal("y", "Y", frozenset({Role.AUDITOR}))
    assert owner.uid in {e.owner.uid for e in certificates.expiring(30, principal=auditor, now=f.NOW)}
    himself = Principal(owner.uid, owner.name.full, frozenset())
    assert [e.owner.uid for e in certificates.expiring(30, principal=himself, now=f.NOW)] == [owner.uid]
    with pytest.raises(InvalidInput):
        certificates.expiring(-1)


def test_expiring_across_search_pages(services: Services, anchors_dir: Path, gov: f.Hierarchy, unit: Unit) -> None:
    """Regression: a unit-admin search between two pages of the holders' search broke its cookie."""
    small_pages = DirectoryClient(replace(services.client.config, page_size=2))
    try:
        service = certificate_service(services, trust_anchors=str(anchors_dir))
        service.store = CertificateStore(small_pages)
        people = [person(services, unit, name) for name in ("Mai Một", "Mai Hai", "Mai Ba", "Mai Bốn", "Mai Năm")]
        for number, owner in enumerate(people):
            bind_ending(service, gov, owner, number + 1)
        scoped = Principal("x", "X", frozenset({Role.UNITADMIN}), (unit.path,))
        assert [e.owner.uid for e in service.expiring(30, principal=scoped, now=f.NOW)] == [p.uid for p in people]
    finally:
        small_pages.close()
