"""Certificate revocation lists: reading them and checking a certification path against them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from mailadmin.certs.info import name_label
from mailadmin.certs.raw import (
    Framing,
    Kind,
    check_size,
    der_framing,
    framing_error,
    looks_like_pem,
    pem_blocks,
    unreadable,
)
from mailadmin.certs.result import ValidationResult
from mailadmin.certs.when import when
from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

MAX_CRL_BYTES = 16 * 1024 * 1024
CRL = Kind("danh sách thu hồi (CRL)", "revocation list (CRL)", "PEM, DER")
_CRL_LABEL = "X509 CRL"


def load_crl(data: bytes, *, max_bytes: int = MAX_CRL_BYTES) -> x509.CertificateRevocationList:
    """One CRL from PEM (`-----BEGIN X509 CRL-----`) or DER."""
    data = check_size(data, max_bytes, CRL)
    der = _pem_body(data) if looks_like_pem(data) else data
    framing = der_framing(der)
    if framing is not Framing.COMPLETE:
        raise framing_error(framing, CRL)
    try:
        crl = x509.load_der_x509_crl(der)
        _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, crl.extensions, len(crl))
    except ValueError:
        raise unreadable(CRL) from None
    return crl


def _pem_body(data: bytes) -> bytes:
    blocks = pem_blocks(data, CRL)
    crls = [b for b in blocks if b.label == _CRL_LABEL]
    if len(crls) != 1 or len(blocks) != 1:
        raise InvalidInput(
            t(
                'Tệp CRL dạng PEM phải chứa đúng một khối "X509 CRL" (có {count} khối).',
                'A PEM CRL file must hold exactly one "X509 CRL" block (it has {count}).',
                count=len(blocks),
            )
        )
    return crls[0].der


def check_revocation(
    path: Sequence[x509.Certificate],
    crls: Iterable[x509.CertificateRevocationList],
    now: datetime,
    report: ValidationResult,
) -> None:
    """Check each certificate of the path against the CRLs its own issuer signed."""
    crls = list(crls)
    for child, issuer in pairwise(path):
        for crl in crls:
            if crl.issuer == issuer.subject:
                _check_one(child, issuer, crl, now, report)


def _check_one(
    child: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    now: datetime,
    report: ValidationResult,
) -> None:
    ca = name_label(issuer.subject)
    if not _signed_by(crl, issuer):
        report.add_error(
            t(
                "Chữ ký của CRL do {ca} phát hành không hợp lệ; không kiểm tra được việc thu hồi.",
                "The CRL issued by {ca} has an invalid signature; revocation cannot be checked.",
                ca=ca,
            )
        )
        return
    if crl.next_update_utc is not None and crl.next_update_utc < now:
        report.add_warning(
            t(
                "CRL của {ca} đã quá hạn cập nhật ({date_vi}); hãy tải CRL mới.",
                "The CRL of {ca} is out of date (next update was {date_en}); fetch a new one.",
                ca=ca,
                **when(crl.next_update_utc),
            )
        )
    entry = crl.get_revoked_certificate_by_serial_number(child.serial_number)
    if entry is not None:
        report.add_error(
            t(
                "Chứng thư {subject} đã bị {ca} thu hồi từ {date_vi}.",
                "The certificate {subject} was revoked by {ca} on {date_en}.",
                subject=name_label(child.subject),
                ca=ca,
                **when(entry.revocation_date_utc),
            )
        )


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False
