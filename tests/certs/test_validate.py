"""validate(): one test per rule, each checking its own bilingual reason."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from mailadmin.certs.validate import ValidationResult, validate
from mailadmin.errors import InvalidInput

from . import factory as f

LONG_AGO = f.NOW - timedelta(days=800)


def check(
    gov: f.Hierarchy,
    leaf: f.Issued,
    intermediates: Sequence[f.Issued] | None = None,
    **options: Any,
) -> ValidationResult:
    """Validate with sensible defaults: the issuing CA uploaded, root trusted, matching mailbox."""
    chain = [gov.issuing] if intermediates is None else intermediates
    settings: dict[str, Any] = {
        "anchors": gov.anchors,
        "now": f.NOW,
        "mailbox_addresses": [f.LEAF_EMAIL],
        **options,
    }
    return validate(leaf.cert, [i.cert for i in chain], **settings)


def only_error(result: ValidationResult) -> tuple[str, str]:
    """The single error, in English and Vietnamese (fails if there is not exactly one)."""
    assert len(result.errors) == 1, f.english(result.errors)
    assert not result.ok
    return result.errors[0].render("en"), result.errors[0].render("vi")


# --- the good case and chain shapes -------------------------------------------------------


def test_valid_certificate(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf)
    assert result.ok and result.trusted
    assert (result.errors, result.warnings) == ([], [])
    assert result.chain == [leaf.cert, gov.issuing.cert, gov.root.cert]


def test_issuing_ca_configured_as_anchor(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, [], anchors=[gov.issuing.cert])
    assert result.ok and result.chain == [leaf.cert, gov.issuing.cert]


def test_uploaded_root_and_unrelated_extras_are_harmless(gov: f.Hierarchy, leaf: f.Issued) -> None:
    stranger = f.sub_ca(f.root_ca("RootCA khác"), "CA khác")
    result = check(gov, leaf, [stranger, gov.root, gov.issuing])
    assert result.ok and result.chain == [leaf.cert, gov.issuing.cert, gov.root.cert]


def test_one_of_several_anchors(gov: f.Hierarchy, leaf: f.Issued) -> None:
    anchors = [f.root_ca("Public Root CA").cert, gov.root.cert]
    assert check(gov, leaf, anchors=anchors).ok


# --- validity dates -----------------------------------------------------------------------


def test_leaf_expired(gov: f.Hierarchy) -> None:
    old = f.official(gov.issuing, not_before=LONG_AGO, not_after=f.NOW - timedelta(days=1))
    english, vietnamese = only_error(check(gov, old))
    assert english == "The certificate Nguyễn Văn An expired on 2025-05-31 08:00 UTC."
    assert vietnamese == "Chứng thư Nguyễn Văn An đã hết hạn vào 31/05/2025 08:00 UTC."


def test_leaf_not_yet_valid(gov: f.Hierarchy) -> None:
    future = f.official(gov.issuing, not_before=f.NOW + timedelta(hours=1))
    english, vietnamese = only_error(check(gov, future))
    assert english == (
        "The certificate Nguyễn Văn An is not valid yet (valid from 2025-06-01 09:00 UTC)."
    )
    assert "chưa có hiệu lực" in vietnamese


def test_validity_bounds_are_inclusive(gov: f.Hierarchy) -> None:
    exact = f.official(gov.issuing, not_before=f.NOW, not_after=f.NOW)
    assert check(gov, exact).ok


def test_intermediate_expired(gov: f.Hierarchy) -> None:
    old_ca = f.sub_ca(gov.root, not_before=LONG_AGO, not_after=f.NOW - timedelta(days=2))
    leaf = f.official(old_ca)
    english, _ = only_error(check(gov, leaf, [old_ca]))
    assert english.startswith(f"The certificate {f.ISSUING_CN} expired on 2025-05-30")


def test_anchor_not_yet_valid() -> None:
    root = f.root_ca(not_before=f.NOW + timedelta(days=1))
    issuing = f.sub_ca(root)
    leaf = f.official(issuing)
    result = validate(
        leaf.cert,
        [issuing.cert],
        anchors=[root.cert],
        now=f.NOW,
        mailbox_addresses=[f.LEAF_EMAIL],
    )
    english, _ = only_error(result)
    assert f"The certificate {f.ROOT_CN} is not valid yet" in english


# --- chain to a trust anchor --------------------------------------------------------------


def test_missing_intermediate_names_the_issuer(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, [])
    english, vietnamese = only_error(result)
    assert english.startswith(f"The issuer {f.ISSUING_CN} of Nguyễn Văn An is not trusted")
    assert f"nhà cung cấp {f.ISSUING_CN}" in vietnamese
    assert not result.trusted and result.chain == [leaf.cert]


def test_untrusted_root_in_upload(gov: f.Hierarchy) -> None:
    fake_root = f.root_ca("RootCA giả mạo")
    fake_issuing = f.sub_ca(fake_root)
    leaf = f.official(fake_issuing)
    english, vietnamese = only_error(check(gov, leaf, [fake_issuing, fake_root]))
    assert english == "The root certificate RootCA giả mạo is not among the trusted CAs."
    assert vietnamese == "Chứng thư gốc RootCA giả mạo không nằm trong danh sách CA tin cậy."


def test_untrusted_hierarchy_leaf_only(gov: f.Hierarchy) -> None:
    other_issuing = f.sub_ca(f.root_ca("Public Root CA"), "Public Issuing CA")
    english, _ = only_error(check(gov, f.official(other_issuing), []))
    assert "The issuer Public Issuing CA of Nguyễn Văn An is not trusted" in english


def test_self_signed_leaf(gov: f.Hierarchy) -> None:
    lone = f.issue(f.official_name(), usage=f.key_usage(**f.SIGNING), emails=[f.LEAF_EMAIL])
    english, _ = only_error(check(gov, lone, []))
    assert english == "The root certificate Nguyễn Văn An is not among the trusted CAs."


def test_forged_signature(gov: f.Hierarchy) -> None:
    impostor = f.sub_ca(f.root_ca())  # same names as the real CAs, other keys
    forged = f.official(impostor)
    english, vietnamese = only_error(check(gov, forged))
    assert english.startswith(
        f"The signature on Nguyễn Văn An does not verify with the key of CA {f.ISSUING_CN}"
    )
    assert "Chữ ký" in vietnamese


def test_issuer_that_is_not_a_ca(gov: f.Hierarchy, leaf: f.Issued) -> None:
    person_as_issuer = f.official(gov.issuing, subject=f.official_name("Lê Văn Cường"))
    signed_by_person = f.official(person_as_issuer)
    english, _ = only_error(check(gov, signed_by_person, [person_as_issuer, gov.issuing]))
    assert english == "Lê Văn Cường is not a CA certificate (BasicConstraints lacks CA=true)."


def test_ca_without_key_cert_sign(gov: f.Hierarchy) -> None:
    crl_only = f.sub_ca(gov.root, usage=f.key_usage(crl_sign=True))
    english, _ = only_error(check(gov, f.official(crl_only), [crl_only]))
    assert english == f"CA {f.ISSUING_CN} may not sign certificates (KeyUsage lacks keyCertSign)."


def test_path_length_constraint(gov: f.Hierarchy) -> None:
    root = f.root_ca(path_length=0)
    issuing = f.sub_ca(root)
    result = validate(
        f.official(issuing).cert,
        [issuing.cert],
        anchors=[root.cert],
        now=f.NOW,
        mailbox_addresses=[f.LEAF_EMAIL],
    )
    english, _ = only_error(result)
    assert english == f"CA {f.ROOT_CN} allows 0 intermediate CAs below it, the chain has 1."


def test_leaf_that_is_a_ca(gov: f.Hierarchy) -> None:
    signing_ca = f.sub_ca(gov.root, "CA ký số", usage=f.key_usage(key_cert_sign=True, **f.SIGNING))
    english, _ = only_error(check(gov, signing_ca, [], mail_policy="ignore"))
    assert english == "CA ký số is a CA certificate, not a personal certificate."


# --- key usage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flags", [{"digital_signature": True}, {"content_commitment": True}, f.SIGNING]
)
def test_signing_key_usage_accepted(gov: f.Hierarchy, flags: dict[str, bool]) -> None:
    assert check(gov, f.official(gov.issuing, usage=f.key_usage(**flags))).ok


def test_encipherment_only_key_usage(gov: f.Hierarchy) -> None:
    wrong = f.official(gov.issuing, usage=f.key_usage(key_encipherment=True))
    english, vietnamese = only_error(check(gov, wrong))
    assert "KeyUsage must include digitalSignature or nonRepudiation" in english
    assert "không dùng để ký được" in vietnamese


def test_missing_key_usage_is_a_warning(gov: f.Hierarchy) -> None:
    result = check(gov, f.official(gov.issuing, usage=None))
    assert result.ok
    assert f.english(result.warnings) == (
        "The certificate has no KeyUsage extension (key use is not restricted)."
    )


# --- mail address -------------------------------------------------------------------------


def test_mail_matches_case_insensitively(gov: f.Hierarchy, leaf: f.Issued) -> None:
    assert check(gov, leaf, mailbox_addresses=[" AnNV@PhuYen.Gov.VN "]).ok


def test_mail_matches_an_alias(gov: f.Hierarchy, leaf: f.Issued) -> None:
    addresses = ["an.nguyenvan@phuyen.gov.vn", f.LEAF_EMAIL]
    assert check(gov, leaf, mailbox_addresses=addresses).ok


def test_mail_in_san_only(gov: f.Hierarchy) -> None:
    san_only = f.official(gov.issuing, subject=f.official_name(email=None))
    assert check(gov, san_only).ok


def test_mail_in_subject_only(gov: f.Hierarchy) -> None:
    subject_only = f.official(gov.issuing, emails=())
    assert check(gov, subject_only).ok


def test_mail_mismatch_required(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, mailbox_addresses=["daodt@phuyen.gov.vn"])
    english, vietnamese = only_error(result)
    assert english == (
        "The e-mail in the certificate (annv@phuyen.gov.vn) does not match the mailbox"
        " (daodt@phuyen.gov.vn)."
    )
    assert "không khớp với hộp thư" in vietnamese


def test_mail_mismatch_warned(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, mailbox_addresses=["daodt@phuyen.gov.vn"], mail_policy="warn")
    assert result.ok and result.errors == []
    assert "does not match the mailbox (daodt@phuyen.gov.vn)" in f.english(result.warnings)


def test_mail_mismatch_ignored(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, mailbox_addresses=["daodt@phuyen.gov.vn"], mail_policy="ignore")
    assert (result.errors, result.warnings) == ([], [])


@pytest.mark.parametrize(("policy", "blocks"), [("require", True), ("warn", False)])
def test_no_mail_in_certificate(gov: f.Hierarchy, policy: str, blocks: bool) -> None:
    mailless = f.official(gov.issuing, subject=f.official_name(email=None), emails=())
    result = check(gov, mailless, mail_policy=policy)
    messages = result.errors if blocks else result.warnings
    assert result.ok is not blocks
    assert f.english(messages) == (
        "The certificate carries no e-mail address (E= or SAN) to match the mailbox"
        " annv@phuyen.gov.vn."
    )


def test_no_mail_in_certificate_ignored(gov: f.Hierarchy) -> None:
    mailless = f.official(gov.issuing, subject=f.official_name(email=None), emails=())
    assert check(gov, mailless, mail_policy="ignore").warnings == []


def test_unknown_mail_policy(gov: f.Hierarchy, leaf: f.Issued) -> None:
    with pytest.raises(InvalidInput) as caught:
        check(gov, leaf, mail_policy="strict")
    assert caught.value.field == "mail_policy"
    assert caught.value.message.render("en") == (
        'Invalid mail policy "strict" (choose: require, warn, ignore).'
    )


# --- revocation ---------------------------------------------------------------------------


def test_revoked_leaf(gov: f.Hierarchy, leaf: f.Issued) -> None:
    crl = f.crl(gov.issuing, [111, leaf.cert.serial_number])
    english, vietnamese = only_error(check(gov, leaf, crls=[crl]))
    assert english == (
        f"The certificate Nguyễn Văn An was revoked by {f.ISSUING_CN} on 2025-05-22 08:00 UTC."
    )
    assert "đã bị" in vietnamese and "thu hồi từ 22/05/2025" in vietnamese


def test_crl_without_the_serial(gov: f.Hierarchy, leaf: f.Issued) -> None:
    assert check(gov, leaf, crls=[f.crl(gov.issuing, [111, 222])]).ok


def test_crl_of_another_ca_is_not_applied_to_the_leaf(gov: f.Hierarchy, leaf: f.Issued) -> None:
    root_crl = f.crl(gov.root, [leaf.cert.serial_number])  # the root did not issue the leaf
    assert check(gov, leaf, crls=[root_crl]).ok


def test_revoked_intermediate(gov: f.Hierarchy, leaf: f.Issued) -> None:
    root_crl = f.crl(gov.root, [gov.issuing.cert.serial_number])
    english, _ = only_error(check(gov, leaf, crls=[root_crl]))
    assert english.startswith(f"The certificate {f.ISSUING_CN} was revoked by {f.ROOT_CN}")


def test_crl_with_a_bad_signature(gov: f.Hierarchy, leaf: f.Issued) -> None:
    forged = f.crl(gov.issuing, [leaf.cert.serial_number], signing_key=f.new_key())
    english, _ = only_error(check(gov, leaf, crls=[forged]))
    assert english == (
        f"The CRL issued by {f.ISSUING_CN} has an invalid signature; revocation cannot be checked."
    )


def test_out_of_date_crl_is_a_warning(gov: f.Hierarchy, leaf: f.Issued) -> None:
    stale = f.crl(gov.issuing, this_update=LONG_AGO, next_update=f.NOW - timedelta(days=3))
    result = check(gov, leaf, crls=[stale])
    assert result.ok
    assert "is out of date (next update was 2025-05-29 08:00 UTC)" in f.english(result.warnings)


# --- binding ------------------------------------------------------------------------------


def test_already_bound(gov: f.Hierarchy, leaf: f.Issued) -> None:
    english, vietnamese = only_error(check(gov, leaf, already_bound_to="daodt"))
    assert english == "This certificate is already bound to account daodt."
    assert vietnamese == "Chứng thư số này đã được gắn với tài khoản daodt."


# --- general ------------------------------------------------------------------------------


def test_every_failure_is_reported(gov: f.Hierarchy) -> None:
    bad = f.official(
        gov.issuing,
        usage=f.key_usage(key_encipherment=True),
        not_before=LONG_AGO,
        not_after=f.NOW - timedelta(days=1),
    )
    result = check(gov, bad, [], mailbox_addresses=["daodt@phuyen.gov.vn"], already_bound_to="x")
    english = f.english(result.errors)
    for fragment in ("already bound", "expired", "KeyUsage", "does not match", "not trusted"):
        assert fragment in english
    assert len(result.errors) == 5


def test_vietnamese_and_english_differ(gov: f.Hierarchy, leaf: f.Issued) -> None:
    result = check(gov, leaf, [], mailbox_addresses=["x@y.vn"], already_bound_to="x")
    assert all(m.render("vi") != m.render("en") for m in result.errors)


def test_naive_now_is_a_programming_error(gov: f.Hierarchy, leaf: f.Issued) -> None:
    with pytest.raises(ValueError):
        check(gov, leaf, now=f.NOW.replace(tzinfo=None))


def ca_ladder(count: int) -> tuple[f.Issued, list[f.Issued]]:
    """A root and `count` CAs, each signed by the previous one."""
    root = f.root_ca()
    ladder = [f.sub_ca(root, "CA cấp 1")]
    for level in range(2, count + 1):
        ladder.append(f.sub_ca(ladder[-1], f"CA cấp {level}"))
    return root, ladder


@pytest.mark.parametrize(("count", "ok"), [(8, True), (9, False)])
def test_at_most_eight_intermediate_cas(count: int, ok: bool) -> None:
    root, ladder = ca_ladder(count)
    result = validate(
        f.official(ladder[-1]).cert,
        [ca.cert for ca in reversed(ladder)],
        anchors=[root.cert],
        now=f.NOW,
        mailbox_addresses=[f.LEAF_EMAIL],
    )
    assert result.ok is ok
    if not ok:
        assert only_error(result)[0] == "The certificate chain has more than 8 intermediate CAs."
