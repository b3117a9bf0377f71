"""The lookup keys stored beside each certificate."""

from __future__ import annotations

import unicodedata

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from mailadmin.certs.keys import fingerprint_key, issuer_serial_key, parse_fingerprint
from mailadmin.errors import InvalidInput

from . import factory as f


def test_fingerprint_spellings(leaf: f.Issued) -> None:
    stored = fingerprint_key(leaf.cert)
    assert len(stored) == 95 and stored == stored.upper()
    bare = stored.replace(":", "")
    for typed in (stored, bare.lower(), f"sha256:{bare}", " ".join(stored.split(":")), f" {stored.lower()} "):
        assert parse_fingerprint(typed) == stored


@pytest.mark.parametrize("typed", ["", "AB:CD", "Z" * 64, "ab" * 33, "sha1:" + "ab" * 20])
def test_bad_fingerprints(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_fingerprint(typed)
    assert "64 hex" in refused.value.message.render("en") and "64 chữ số" in refused.value.message.render("vi")


def test_issuer_serial_key_is_independent_of_unicode_form_and_case(gov: f.Hierarchy) -> None:
    def issuing_ca(org: str) -> f.Issued:
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                          x509.NameAttribute(NameOID.COMMON_NAME, "CA  Thử")])
        return f.issue(name, issuer=gov.root, ca=True, usage=f.key_usage(**f.CA_USAGE), key=gov.issuing.key)

    composed = f.official(issuing_ca("Ban Cơ yếu Chính phủ"), serial=4242)
    decomposed = f.official(issuing_ca(unicodedata.normalize("NFD", "BAN CƠ YẾU Chính phủ")), serial=4242)
    assert composed.cert.issuer != decomposed.cert.issuer
    assert issuer_serial_key(composed.cert) == issuer_serial_key(decomposed.cert) == \
        "4242$cn=ca thử,o=ban cơ yếu chính phủ,c=vn"
