"""load_certificates and split_leaf: every accepted format, every kind of bad upload."""

from __future__ import annotations

import base64
import random
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from mailadmin.certs.parse import load_certificates, split_leaf
from mailadmin.errors import InvalidInput

from . import factory as f


def refusal(data: bytes, **options: int) -> tuple[str, str]:
    """The (English, Vietnamese) message of the InvalidInput raised for `data`."""
    with pytest.raises(InvalidInput) as caught:
        load_certificates(data, **options)
    return caught.value.message.render("en"), caught.value.message.render("vi")


# --- accepted formats ---------------------------------------------------------------------


def test_single_pem(leaf: f.Issued) -> None:
    assert load_certificates(f.pem(leaf.cert)) == [leaf.cert]


def test_pem_bundle_keeps_file_order(gov: f.Hierarchy, leaf: f.Issued) -> None:
    data = f.pem(gov.root.cert, leaf.cert, gov.issuing.cert)
    assert load_certificates(data) == [gov.root.cert, leaf.cert, gov.issuing.cert]


def test_pem_with_bom_crlf_and_text_around_blocks(gov: f.Hierarchy, leaf: f.Issued) -> None:
    body = f.pem(leaf.cert, gov.issuing.cert).replace(b"\n", b"\r\n")
    data = "\ufeffChứng thư của Nguyễn Văn An\r\n".encode() + body + b"-- end of bundle --\r\n"
    assert load_certificates(data) == [leaf.cert, gov.issuing.cert]


def test_der(leaf: f.Issued) -> None:
    assert load_certificates(f.der(leaf.cert)) == [leaf.cert]


@pytest.mark.parametrize("encoding", ["pem", "der", "bare base64"])
def test_cer_crt_file_in_any_encoding(leaf: f.Issued, encoding: str) -> None:
    data = {
        "pem": f.pem(leaf.cert),
        "der": f.der(leaf.cert),
        "bare base64": base64.encodebytes(f.der(leaf.cert)),
    }[encoding]
    assert load_certificates(data) == [leaf.cert]


@pytest.mark.parametrize("encoding", [Encoding.PEM, Encoding.DER])
def test_pkcs7_bundle(gov: f.Hierarchy, leaf: f.Issued, encoding: Encoding) -> None:
    data = f.p7b([leaf.cert, gov.issuing.cert, gov.root.cert], encoding)
    assert set(load_certificates(data)) == {leaf.cert, gov.issuing.cert, gov.root.cert}


def test_x509_certificate_label(leaf: f.Issued) -> None:
    data = f.pem(leaf.cert).replace(b"BEGIN CERTIFICATE", b"BEGIN X509 CERTIFICATE")
    data = data.replace(b"END CERTIFICATE", b"END X509 CERTIFICATE")
    assert load_certificates(data) == [leaf.cert]


def test_openssl_trusted_certificate_ignores_trust_settings(leaf: f.Issued) -> None:
    aux = b"\x30\x05\x06\x03\x2a\x03\x04"  # any DER after the certificate
    body = base64.encodebytes(f.der(leaf.cert) + aux)
    data = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    assert load_certificates(data) == [leaf.cert]


def test_duplicates_are_dropped(gov: f.Hierarchy, leaf: f.Issued) -> None:
    data = f.pem(leaf.cert, gov.issuing.cert, leaf.cert)
    assert load_certificates(data) == [leaf.cert, gov.issuing.cert]


def test_size_limit_is_inclusive(leaf: f.Issued) -> None:
    data = f.der(leaf.cert)
    assert load_certificates(data, max_bytes=len(data)) == [leaf.cert]


# --- bad uploads --------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"  \r\n\t "])
def test_empty(data: bytes) -> None:
    english, vietnamese = refusal(data)
    assert "empty" in english
    assert "trống" in vietnamese


def test_over_size(leaf: f.Issued) -> None:
    data = f.pem(leaf.cert)
    english, vietnamese = refusal(data, max_bytes=len(data) - 1)
    assert "too large" in english and str(len(data)) in english
    assert "quá lớn" in vietnamese


def test_default_limit_is_256_kib(leaf: f.Issued) -> None:
    data = f.pem(leaf.cert) + b"\n" * (256 * 1024)
    assert "too large" in refusal(data)[0]


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes(seed: int) -> None:
    data = random.Random(seed).randbytes(2000)
    english, _ = refusal(data)
    assert "cannot read" in english.lower() or "truncated" in english or "unexpected" in english


def test_plain_text() -> None:
    english, vietnamese = refusal(b"hello world, this is not a certificate")
    assert "not in an accepted format (PEM, DER, PKCS#7)" in english
    assert "Không đọc được" in vietnamese


def test_truncated_pem_without_end_line(leaf: f.Issued) -> None:
    data = f.pem(leaf.cert)
    english, vietnamese = refusal(data[: len(data) // 2])
    assert "truncated" in english and "END" in english
    assert "cắt cụt" in vietnamese


def test_truncated_pem_body(leaf: f.Issued) -> None:
    lines = f.pem(leaf.cert).splitlines(keepends=True)
    data = b"".join(lines[:4] + lines[-1:])  # BEGIN, 3 full base64 lines, END
    english, _ = refusal(data)
    assert "truncated" in english


def test_damaged_base64_in_pem(leaf: f.Issued) -> None:
    lines = f.pem(leaf.cert).splitlines(keepends=True)
    lines[2] = b"!!" + lines[2][2:]
    english, _ = refusal(b"".join(lines))
    assert "damaged" in english and "PEM block 1 (CERTIFICATE)" in english


@pytest.mark.parametrize("keep", [1, 2, 4, 100, -1])
def test_truncated_der(leaf: f.Issued, keep: int) -> None:
    data = f.der(leaf.cert)[:keep]
    english, vietnamese = refusal(data)
    assert "truncated" in english
    assert "cắt cụt" in vietnamese


@pytest.mark.parametrize("encoding", [Encoding.PEM, Encoding.DER])
def test_truncated_pkcs7(gov: f.Hierarchy, leaf: f.Issued, encoding: Encoding) -> None:
    data = f.p7b([leaf.cert, gov.issuing.cert], encoding)
    english, _ = refusal(data[: len(data) * 2 // 3])
    assert "truncated" in english


def test_der_with_trailing_garbage(leaf: f.Issued) -> None:
    english, _ = refusal(f.der(leaf.cert) + b"\x00garbage")
    assert "unexpected data after" in english


def test_corrupted_der_never_leaks_a_cryptography_error(leaf: f.Issued) -> None:
    der = bytearray(f.der(leaf.cert))
    refused = 0
    for position in range(0, len(der), 3):
        mutated = bytearray(der)
        mutated[position] ^= 0xFF
        try:
            load_certificates(bytes(mutated))
        except InvalidInput:
            refused += 1
    assert refused > len(der) // 6  # most corruptions are caught, none escaped as other errors


def test_private_key_is_refused_with_a_warning() -> None:
    key_pem = f.new_key().private_bytes(
        Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    english, vietnamese = refusal(key_pem)
    assert "private key" in english and "Never upload" in english
    assert "khóa bí mật" in vietnamese


def test_certificate_request_is_not_a_certificate() -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn An")]))
        .sign(f.new_key(), hashes.SHA256())
    )
    english, _ = refusal(csr.public_bytes(Encoding.PEM))
    assert 'PEM block 1 is a "CERTIFICATE REQUEST", not a certificate' in english


def test_crl_is_not_a_certificate(gov: f.Hierarchy) -> None:
    english, _ = refusal(f.crl(gov.issuing).public_bytes(Encoding.DER))
    assert "Cannot read the certificate file" in english


def test_malformed_extension_is_reported_cleanly(gov: f.Hierarchy) -> None:
    bogus = x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00")  # NULL, not BIT STRING
    cert = (
        x509.CertificateBuilder()
        .subject_name(f.official_name())
        .issuer_name(gov.issuing.cert.subject)
        .public_key(f.new_key().public_key())
        .serial_number(7)
        .not_valid_before(f.NOW)
        .not_valid_after(f.NOW)
        .add_extension(bogus, critical=True)
        .sign(gov.issuing.key, hashes.SHA256())
    )
    english, _ = refusal(f.der(cert))
    assert "Certificate 1 in the file has a malformed field" in english


# --- split_leaf ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 0, 2), (2, 0, 1)])
def test_split_leaf_in_any_order(gov: f.Hierarchy, leaf: f.Issued, order: tuple[int, ...]) -> None:
    certs = [leaf.cert, gov.issuing.cert, gov.root.cert]
    uploaded = [certs[i] for i in order]
    found, others = split_leaf(uploaded)
    assert found == leaf.cert
    assert others == [c for c in uploaded if c != leaf.cert]


def test_split_single_certificate(leaf: f.Issued) -> None:
    assert split_leaf([leaf.cert]) == (leaf.cert, [])


def test_split_leaf_without_basic_constraints(gov: f.Hierarchy) -> None:
    old_style = f.official(gov.issuing, basic_constraints=False)
    assert split_leaf([gov.issuing.cert, old_style.cert]) == (old_style.cert, [gov.issuing.cert])


def test_split_only_ca_certificates(gov: f.Hierarchy) -> None:
    with pytest.raises(InvalidInput) as caught:
        split_leaf([gov.root.cert, gov.issuing.cert])
    assert "personal certificate is missing" in caught.value.message.render("en")


def test_split_several_personal_certificates(gov: f.Hierarchy, leaf: f.Issued) -> None:
    other = f.official(gov.issuing, subject=f.official_name("Đặng Thị Đào", email=None))
    with pytest.raises(InvalidInput) as caught:
        split_leaf([leaf.cert, gov.issuing.cert, other.cert])
    english = caught.value.message.render("en")
    assert "several personal certificates" in english
    assert "Nguyễn Văn An" in english and "Đặng Thị Đào" in english


def test_split_nothing() -> None:
    with pytest.raises(InvalidInput):
        split_leaf([])


def negative_serial_der(gov: f.Hierarchy) -> bytes:
    """A certificate whose one-byte serial 0x7A is patched to 0x85 (negative; signature broken)."""
    der = f.der(f.official(gov.issuing, serial=0x7A).cert)
    marker = b"\xa0\x03\x02\x01\x02\x02\x01\x7a"
    assert der.count(marker) == 1
    return der.replace(marker, marker[:-1] + b"\x85")


def test_negative_serial_is_refused(gov: f.Hierarchy) -> None:
    english, _ = refusal(negative_serial_der(gov))
    assert "does not conform to RFC 5280" in english


def test_negative_serial_is_refused_when_warnings_are_ignored(gov: f.Hierarchy) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        english, _ = refusal(negative_serial_der(gov))
    assert "does not conform to RFC 5280" in english
