"""Lookup keys mailadmin stores beside each bound certificate: fingerprint and issuer + serial."""

from __future__ import annotations

import re
import unicodedata

from cryptography import x509

from mailadmin.certs.info import LDAP_NAMES, fingerprint_sha256, format_name
from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

_HEX_DIGITS = re.compile(r"[0-9a-fA-F]{64}")
_SEPARATORS = re.compile(r"[\s:]")
_SPACES = re.compile(r"\s+")


def fingerprint_key(cert: x509.Certificate) -> str:
    """The stored maCertFingerprint: SHA-256, upper-case hex pairs joined by colons."""
    return fingerprint_sha256(cert)


def issuer_serial_key(cert: x509.Certificate) -> str:
    """The stored maCertIssuerSerial: `<decimal serial>$<issuer DN, normalised>`.

    The issuer is written as in `ldap_exact_assertion` (RFC 4514 order and escapes, E= as
    emailAddress=), then NFC-normalised, lower-cased and with runs of white space collapsed,
    so two encodings of the same Vietnamese name give the same key.
    """
    return f"{cert.serial_number}${normalise_issuer(format_name(cert.issuer, LDAP_NAMES, ','))}"


def normalise_issuer(issuer: str) -> str:
    """An RFC 4514 issuer string in the form used inside maCertIssuerSerial."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", issuer).strip()).lower()


def parse_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as typed (colons, spaces, any case, `sha256:` prefix) in stored form."""
    digits = _SEPARATORS.sub("", text.strip().removeprefix("sha256:").removeprefix("SHA256:"))
    if not _HEX_DIGITS.fullmatch(digits):
        raise InvalidInput(
            t(
                "Dấu vân tay SHA-256 không hợp lệ: {text} (cần 64 chữ số hex, có thể có dấu ':').",
                "Invalid SHA-256 fingerprint: {text} (expected 64 hex digits, ':' allowed).",
                text=text[:120],
            ),
            field="fingerprint",
        )
    digits = digits.upper()
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))
