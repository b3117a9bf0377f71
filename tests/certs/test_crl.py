"""load_crl: PEM or DER, with clean errors for everything else."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mailadmin.certs.validate import load_crl
from mailadmin.errors import InvalidInput

from . import factory as f


def refusal(data: bytes, **options: int) -> str:
    with pytest.raises(InvalidInput) as caught:
        load_crl(data, **options)
    assert caught.value.message.render("vi") != caught.value.message.render("en")
    return caught.value.message.render("en")


@pytest.mark.parametrize("encoding", [Encoding.PEM, Encoding.DER])
def test_pem_and_der(gov: f.Hierarchy, encoding: Encoding) -> None:
    crl = f.crl(gov.issuing, [5, 6])
    loaded = load_crl(crl.public_bytes(encoding))
    assert loaded == crl
    assert loaded.get_revoked_certificate_by_serial_number(6) is not None


@pytest.mark.parametrize("data", [b"", b"\n \n"])
def test_empty(data: bytes) -> None:
    assert refusal(data) == "The revocation list (CRL) file is empty."


def test_over_size(gov: f.Hierarchy) -> None:
    data = f.crl(gov.issuing).public_bytes(Encoding.DER)
    assert "too large" in refusal(data, max_bytes=len(data) - 1)


def test_garbage() -> None:
    assert refusal(b"\x00\x01garbage") == (
        "Cannot read the revocation list (CRL) file: it is not in an accepted format (PEM, DER)."
    )


def test_truncated_der(gov: f.Hierarchy) -> None:
    data = f.crl(gov.issuing, [1, 2, 3]).public_bytes(Encoding.DER)
    assert "truncated" in refusal(data[:-10])


def test_truncated_pem(gov: f.Hierarchy) -> None:
    data = f.crl(gov.issuing).public_bytes(Encoding.PEM)
    assert "truncated" in refusal(data[:-30])


def test_certificate_is_not_a_crl(leaf: f.Issued) -> None:
    assert "Cannot read the revocation list" in refusal(f.der(leaf.cert))


def test_pem_certificate_is_not_a_crl(leaf: f.Issued) -> None:
    assert 'exactly one "X509 CRL" block' in refusal(f.pem(leaf.cert))


def test_two_crls_in_one_pem(gov: f.Hierarchy) -> None:
    one = f.crl(gov.issuing).public_bytes(Encoding.PEM)
    assert "(it has 2)" in refusal(one + one)
