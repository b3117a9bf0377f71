"""Bulk binding from a folder or zip: plan (dry run) writes nothing, apply binds, report per file."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from mailadmin.model import Mailbox, Unit
from mailadmin.services.certificates import BulkPlan, CertificateService
from mailadmin.wiring import Services

from . import factory as f
from .helpers import cert_for, person


def outcomes(plan: BulkPlan) -> dict[str, tuple[str, str]]:
    """File -> (outcome, uid)."""
    return {row.file: (row.outcome, row.uid) for row in plan.rows}


def fill(folder: Path, gov: f.Hierarchy, people: list[Mailbox], bound_before: f.Issued) -> dict[str, bytes]:
    """A realistic drop of files: good ones, bad ones, a duplicate and a non-certificate."""
    good_a, good_b = cert_for(gov.issuing, people[0]), cert_for(gov.issuing, people[1])
    chainless = cert_for(gov.issuing, people[1])
    expired = cert_for(gov.issuing, people[2], not_after=f.NOW - timedelta(days=3))
    stranger = f.official(gov.issuing, emails=("khongaica@phuyen.gov.vn",), subject=f.official_name(email=None))
    files = {
        "a.pem": f.pem(good_a.cert, gov.issuing.cert),
        "b/b.cer": f.der(chainless.cert),  # the issuing CA missing: refused, the chain is unknown
        "b/b-chain.p7b": f.p7b([good_b.cert, gov.issuing.cert], serialization.Encoding.PEM),
        "c.crt": f.pem(expired.cert, gov.issuing.cert),
        "copy-of-a.pem": f.pem(good_a.cert),
        "nobody.pem": f.pem(stranger.cert, gov.issuing.cert),
        "garbage.crt": b"not a certificate at all",
        "old.pem": f.pem(bound_before.cert, gov.issuing.cert),
        "readme.txt": b"instructions",
    }
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return files


def test_dry_run_writes_nothing_then_apply_binds_the_good_files(
        services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit, tmp_path: Path) -> None:
    people = [person(services, unit), person(services, unit, "Trần Văn Bốn"), person(services, unit, "Lý Thị Ba")]
    earlier = cert_for(gov.issuing, people[2])
    certificates.bind(people[2].uid, f.pem(earlier.cert, gov.issuing.cert), now=f.NOW)
    files = fill(tmp_path / "drop", gov, people, earlier)
    audit_before = len(list(services.audit.entries()))
    plan = certificates.plan_folder(tmp_path / "drop", now=f.NOW)
    a, b, c = (p.uid for p in people)
    assert outcomes(plan) == {
        "a.pem": ("bind", a), "b/b-chain.p7b": ("bind", b), "b/b.cer": ("error", b), "c.crt": ("error", c),
        "copy-of-a.pem": ("error", a), "garbage.crt": ("error", ""), "nobody.pem": ("error", ""),
        "old.pem": ("skip", c)}
    notes = {row.file: " ".join(m.render("en") for m in row.messages) for row in plan.rows}
    assert "was not uploaded with the chain" in notes["b/b.cer"]
    assert "expired on" in notes["c.crt"] and "same certificate as file a.pem" in notes["copy-of-a.pem"]
    assert "no mailbox has an address from the certificate (khongaica@phuyen.gov.vn)" in notes["nobody.pem"]
    assert "not in an accepted format" in notes["garbage.crt"] and "already bound to" in notes["old.pem"]
    assert plan.ignored == ["readme.txt"] and not plan.applied
    assert [services.mailboxes.get(uid).certificates for uid in (a, b)] == [(), ()]
    assert len(list(services.audit.entries())) == audit_before  # the dry run wrote nothing at all

    done = certificates.apply(plan, now=f.NOW)
    assert outcomes(done)["a.pem"] == ("bound", a) and outcomes(done)["b/b-chain.p7b"] == ("bound", b)
    assert [len(services.mailboxes.get(uid).certificates) for uid in (a, b, c)] == [1, 1, 1]
    actions = [e.action for e in services.audit.entries()][audit_before:]
    assert actions == ["certificate.bind", "certificate.bind", "certificate.bind_folder"]

    archive = tmp_path / "again.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for name, data in files.items():
            packed.writestr(name, data)
    again = certificates.plan_folder(archive, now=f.NOW)
    assert outcomes(again)["a.pem"] == ("skip", a) and outcomes(again)["b/b-chain.p7b"] == ("skip", b)


def test_two_runs_racing_bind_once_and_report_the_other(
        services: Services, certificates: CertificateService, gov: f.Hierarchy, unit: Unit, tmp_path: Path) -> None:
    """Two admins plan the same drop, then both apply: the second finds every file taken."""
    owner = person(services, unit)
    (tmp_path / "an.pem").write_bytes(f.pem(cert_for(gov.issuing, owner).cert, gov.issuing.cert))
    first, second = certificates.plan_folder(tmp_path, now=f.NOW), certificates.plan_folder(tmp_path, now=f.NOW)
    assert outcomes(certificates.apply(first, now=f.NOW)) == {"an.pem": ("bound", owner.uid)}
    late = certificates.apply(second, now=f.NOW)
    assert outcomes(late) == {"an.pem": ("failed", owner.uid)}
    assert late.rows[0].messages[-1].render("en") == f"this certificate has just been bound to account {owner.uid}"
    assert len(services.mailboxes.get(owner.uid).certificates) == 1
