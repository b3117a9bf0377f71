"""Decide whether a certificate may be bound to a mailbox: dates, chain, usage, mail, revocation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, get_args

from cryptography import x509

from mailadmin.certs.anchors import load_trust_anchors
from mailadmin.certs.chain import build_chain, check_issuers, is_ca
from mailadmin.certs.crl import check_revocation, load_crl
from mailadmin.certs.info import certificate_emails, name_label, require_aware
from mailadmin.certs.result import ValidationResult
from mailadmin.certs.strength import check_key_strength
from mailadmin.certs.when import when
from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

MailPolicy = Literal["require", "warn", "ignore"]
MAIL_POLICIES: tuple[str, ...] = get_args(MailPolicy)

__all__ = ["MailPolicy", "ValidationResult", "load_crl", "load_trust_anchors", "validate"]


def validate(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    *,
    anchors: Sequence[x509.Certificate],
    now: datetime,
    mailbox_addresses: Iterable[str],
    mail_policy: MailPolicy = "require",
    crls: Iterable[x509.CertificateRevocationList] = (),
    already_bound_to: str | None = None,
) -> ValidationResult:
    """Every rule for binding `leaf` to a mailbox; `result.ok` is False when any rule fails."""
    require_aware(now)
    if mail_policy not in MAIL_POLICIES:
        raise InvalidInput(
            t(
                'Chính sách kiểm tra thư "{policy}" không hợp lệ (chọn: {choices}).',
                'Invalid mail policy "{policy}" (choose: {choices}).',
                policy=mail_policy,
                choices=", ".join(MAIL_POLICIES),
            ),
            field="mail_policy",
        )
    report = ValidationResult()
    _check_bound(already_bound_to, report)
    _check_dates(leaf, now, report)
    _check_end_entity(leaf, report)
    _check_key_usage(leaf, report)
    check_key_strength(leaf, report)
    _check_mail(leaf, mailbox_addresses, mail_policy, report)
    report.chain = build_chain(leaf, intermediates, anchors, report)
    check_issuers(report.chain, report)
    for ca in report.chain[1:]:
        _check_dates(ca, now, report)
        check_key_strength(ca, report)
    check_revocation(report.chain, crls, now, report)
    return report


def _check_bound(uid: str | None, report: ValidationResult) -> None:
    if uid is not None:
        report.add_error(
            t(
                "Chứng thư số này đã được gắn với tài khoản {uid}.",
                "This certificate is already bound to account {uid}.",
                uid=uid,
            )
        )


def _check_dates(cert: x509.Certificate, now: datetime, report: ValidationResult) -> None:
    subject = name_label(cert.subject)
    if now < cert.not_valid_before_utc:
        report.add_error(
            t(
                "Chứng thư {subject} chưa có hiệu lực (hiệu lực từ {date_vi}).",
                "The certificate {subject} is not valid yet (valid from {date_en}).",
                subject=subject,
                **when(cert.not_valid_before_utc),
            )
        )
    elif now > cert.not_valid_after_utc:
        report.add_error(
            t(
                "Chứng thư {subject} đã hết hạn vào {date_vi}.",
                "The certificate {subject} expired on {date_en}.",
                subject=subject,
                **when(cert.not_valid_after_utc),
            )
        )


def _check_end_entity(leaf: x509.Certificate, report: ValidationResult) -> None:
    if is_ca(leaf):
        report.add_error(
            t(
                "{subject} là chứng thư của CA, không phải chứng thư số cá nhân.",
                "{subject} is a CA certificate, not a personal certificate.",
                subject=name_label(leaf.subject),
            )
        )


def _check_key_usage(leaf: x509.Certificate, report: ValidationResult) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        report.add_warning(
            t(
                "Chứng thư không có phần mở rộng KeyUsage (không giới hạn mục đích sử dụng khóa).",
                "The certificate has no KeyUsage extension (key use is not restricted).",
            )
        )
        return
    if not (usage.digital_signature or usage.content_commitment):
        report.add_error(
            t(
                "Khóa của chứng thư không dùng để ký được: KeyUsage phải có digitalSignature"
                " hoặc nonRepudiation.",
                "The certificate's key is not for signing: KeyUsage must include"
                " digitalSignature or nonRepudiation.",
            )
        )


def _check_mail(
    leaf: x509.Certificate,
    mailbox_addresses: Iterable[str],
    policy: MailPolicy,
    report: ValidationResult,
) -> None:
    if policy == "ignore":
        return
    mailbox = [a.strip().lower() for a in mailbox_addresses if a.strip()]
    in_cert = certificate_emails(leaf)
    if set(in_cert) & set(mailbox):
        return
    add = report.add_error if policy == "require" else report.add_warning
    if not in_cert:
        add(
            t(
                "Chứng thư số không chứa địa chỉ thư điện tử (E= hoặc SAN) để đối chiếu"
                " với hộp thư {mailbox}.",
                "The certificate carries no e-mail address (E= or SAN) to match the"
                " mailbox {mailbox}.",
                mailbox=", ".join(mailbox) or "-",
            )
        )
        return
    add(
        t(
            "Địa chỉ thư trong chứng thư số ({in_cert}) không khớp với hộp thư ({mailbox}).",
            "The e-mail in the certificate ({in_cert}) does not match the mailbox ({mailbox}).",
            in_cert=", ".join(in_cert),
            mailbox=", ".join(mailbox) or "-",
        )
    )
