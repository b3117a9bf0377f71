"""Certification path building: leaf → uploaded intermediates → a configured trust anchor."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from mailadmin.certs.info import name_label
from mailadmin.certs.result import ValidationResult
from mailadmin.i18n import t

MAX_INTERMEDIATES = 8


def is_ca(cert: x509.Certificate) -> bool:
    """True when BasicConstraints marks the certificate as a CA."""
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when parent's name is child's issuer and parent's key verifies child's signature."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    """True for a certificate that names and verifies itself as its issuer (a root)."""
    return issued_by(cert, cert)


def build_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    report: ValidationResult,
) -> list[x509.Certificate]:
    """The path from leaf upwards; report.trusted tells whether it reached an anchor."""
    path = [leaf]
    for _ in range(MAX_INTERMEDIATES + 1):
        current = path[-1]
        anchor = _find_issuer(current, anchors)
        if anchor is not None:
            path.append(anchor)
            report.trusted = True
            return path
        parent = _find_issuer(current, [c for c in intermediates if c not in path])
        if parent is None:
            _report_dead_end(current, [*intermediates, *anchors], report)
            return path
        path.append(parent)
    report.add_error(
        t(
            "Chuỗi chứng thư có hơn {limit} CA trung gian.",
            "The certificate chain has more than {limit} intermediate CAs.",
            limit=MAX_INTERMEDIATES,
        )
    )
    return path


def _find_issuer(
    cert: x509.Certificate, candidates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    return next((c for c in candidates if c != cert and issued_by(cert, c)), None)


def _report_dead_end(
    cert: x509.Certificate, known: Sequence[x509.Certificate], report: ValidationResult
) -> None:
    subject, issuer = name_label(cert.subject), name_label(cert.issuer)
    if any(c.subject == cert.issuer and c != cert for c in known):
        report.add_error(
            t(
                "Chữ ký trên chứng thư {subject} không khớp với khóa của CA {issuer}"
                " (chứng thư giả mạo hoặc do một khóa CA khác cấp).",
                "The signature on {subject} does not verify with the key of CA {issuer}"
                " (forged, or issued under another CA key).",
                subject=subject,
                issuer=issuer,
            )
        )
    elif is_self_signed(cert):
        report.add_error(
            t(
                "Chứng thư gốc {issuer} không nằm trong danh sách CA tin cậy.",
                "The root certificate {issuer} is not among the trusted CAs.",
                issuer=subject,
            )
        )
    else:
        report.add_error(
            t(
                "Không tin cậy được nhà cung cấp {issuer} của chứng thư {subject}: CA này không có"
                " trong danh sách CA tin cậy, và tệp tải lên không kèm chứng thư của nó.",
                "The issuer {issuer} of {subject} is not trusted: it is not a configured trust"
                " anchor and its certificate was not uploaded with the chain.",
                subject=subject,
                issuer=issuer,
            )
        )


def check_issuers(path: Sequence[x509.Certificate], report: ValidationResult) -> None:
    """Every certificate above the leaf must be a CA allowed to sign certificates."""
    for depth, issuer in enumerate(path[1:]):
        label = name_label(issuer.subject)
        if not is_ca(issuer):
            report.add_error(
                t(
                    "{issuer} không phải là chứng thư CA (BasicConstraints không có CA=true).",
                    "{issuer} is not a CA certificate (BasicConstraints lacks CA=true).",
                    issuer=label,
                )
            )
            continue
        if not _may_sign_certificates(issuer):
            report.add_error(
                t(
                    "CA {issuer} không được phép ký chứng thư (KeyUsage thiếu keyCertSign).",
                    "CA {issuer} may not sign certificates (KeyUsage lacks keyCertSign).",
                    issuer=label,
                )
            )
        _check_path_length(issuer, depth, report)


def _may_sign_certificates(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    except x509.ExtensionNotFound:
        return True
    return usage.value.key_cert_sign


def _check_path_length(cert: x509.Certificate, below: int, report: ValidationResult) -> None:
    limit = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    if limit is not None and below > limit:
        report.add_error(
            t(
                "CA {issuer} chỉ cho phép {limit} CA trung gian bên dưới, chuỗi có {count}.",
                "CA {issuer} allows {limit} intermediate CAs below it, the chain has {count}.",
                issuer=name_label(cert.subject),
                limit=limit,
                count=below,
            )
        )
