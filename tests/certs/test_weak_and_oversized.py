"""Weak keys and absurd sizes are refused with the rule, through `mailadmin cert bind` (the real entry point)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory

from . import factory as f
from .helpers import cert_for, person
from .test_cli_certs import TODAY, cli, live  # noqa: F401 (live is a fixture)

DATES = {"not_before": TODAY - timedelta(days=1), "not_after": TODAY + timedelta(days=99)}


def bind(directory: RunningDirectory, hierarchy: f.Hierarchy, uid: str, data: bytes, tmp_path: Path,
         ) -> tuple[int, str]:
    anchors, upload = tmp_path / "anchors.pem", tmp_path / "upload.pem"
    anchors.write_bytes(f.pem(hierarchy.root.cert))
    upload.write_bytes(data)
    done = cli(directory, anchors, "cert", "bind", uid, str(upload))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stderr


@pytest.mark.parametrize(("make_key", "rule"), [
    (lambda: rsa.generate_private_key(65537, 1024), "RSA keys must have at least 2048 bits (this one: 1024)"),
    (lambda: ec.generate_private_key(ec.SECP192R1()), "EC keys must be on a curve of at least 256 bits"),
    (lambda: dsa.generate_private_key(1024), "DSA keys are not accepted"),
])
def test_weak_leaf_keys_are_refused_with_the_rule(directory: RunningDirectory, services: Services,
                                                  live: f.Hierarchy, unit: Unit, tmp_path: Path,  # noqa: F811
                                                  make_key: object, rule: str) -> None:
    owner = person(services, unit)
    key: CertificateIssuerPrivateKeyTypes = make_key()  # type: ignore[operator]
    issued = cert_for(live.issuing, owner, key=key, **DATES)
    code, stderr = bind(directory, live, owner.uid, f.pem(issued.cert, live.issuing.cert), tmp_path)
    assert code == 2 and rule in stderr and "Lỗi: " in stderr
    assert services.mailboxes.get(owner.uid).certificates == ()


@pytest.mark.parametrize("make_key", [lambda: rsa.generate_private_key(65537, 2048),
                                      lambda: ec.generate_private_key(ec.SECP384R1()),
                                      ed25519.Ed25519PrivateKey.generate])
def test_strong_leaf_keys_bind(directory: RunningDirectory, services: Services, live: f.Hierarchy,  # noqa: F811
                               unit: Unit, tmp_path: Path, make_key: object) -> None:
    owner = person(services, unit)
    issued = cert_for(live.issuing, owner, key=make_key(), **DATES)  # type: ignore[operator]
    code, stderr = bind(directory, live, owner.uid, f.pem(issued.cert, live.issuing.cert), tmp_path)
    assert code == 0, stderr


def test_a_weak_issuing_ca_key_is_refused(directory: RunningDirectory, services: Services, unit: Unit,
                                          tmp_path: Path) -> None:
    root = f.root_ca(**DATES)
    weak = f.Hierarchy(root, f.sub_ca(root, key=rsa.generate_private_key(65537, 1024), **DATES), [root.cert])
    owner = person(services, unit)
    issued = cert_for(weak.issuing, owner, **DATES)
    code, stderr = bind(directory, weak, owner.uid, f.pem(issued.cert, weak.issuing.cert), tmp_path)
    assert code == 2 and "at least 2048 bits (this one: 1024)" in stderr and f.ISSUING_CN in stderr


def test_a_certificate_with_5001_sans_is_refused_before_use(directory: RunningDirectory, services: Services,
                                                            live: f.Hierarchy, unit: Unit,  # noqa: F811
                                                            tmp_path: Path) -> None:
    owner = person(services, unit)
    emails = (owner.mail, *(f"x{i}@phuyen.gov.vn" for i in range(5000)))
    issued = cert_for(live.issuing, owner, emails=emails, **DATES)
    code, stderr = bind(directory, live, owner.uid, f.pem(issued.cert, live.issuing.cert), tmp_path)
    assert code == 2 and "5001" in stderr and "at most 100" in stderr and "tối đa 100" in stderr
    assert services.mailboxes.get(owner.uid).certificates == ()


def test_an_oversized_certificate_is_refused(directory: RunningDirectory, services: Services,
                                             live: f.Hierarchy, unit: Unit, tmp_path: Path) -> None:  # noqa: F811
    owner = person(services, unit)
    long_units = tuple("Phòng " + "Công nghệ thông tin " * 40 for _ in range(20))  # ~17 KiB of subject
    issued = f.official(live.issuing, f.official_name(owner.name.full, long_units, owner.mail),
                        emails=(owner.mail,), **DATES)
    code, stderr = bind(directory, live, owner.uid, f.pem(issued.cert, live.issuing.cert), tmp_path)
    assert code == 2 and "larger than 16 KiB" in stderr
