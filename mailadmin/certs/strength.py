"""Key strength: RSA under 2048 bits, EC curves under 256 bits and DSA can be forged or are deprecated."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from mailadmin.certs.info import name_label
from mailadmin.certs.result import ValidationResult
from mailadmin.i18n import Text, t

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
RULE = t("Quy tắc: RSA từ {rsa} bit, EC từ {ec} bit (P-256 trở lên) hoặc Ed25519/Ed448; không nhận DSA.",
         "The rule: RSA of at least {rsa} bits, EC of at least {ec} bits (P-256 or larger) or Ed25519/Ed448; "
         "no DSA.", rsa=MIN_RSA_BITS, ec=MIN_EC_BITS)


def check_key_strength(cert: x509.Certificate, report: ValidationResult) -> None:
    """Add an error naming the certificate and the rule when its public key is too weak."""
    problem = weakness(cert.public_key())
    if problem is not None:
        report.add_error(t("{subject}: {vi} {rule_vi}", "{subject}: {en} {rule_en}", subject=name_label(cert.subject),
                           vi=problem.render("vi"), en=problem.render("en"), rule_vi=RULE.render("vi"),
                           rule_en=RULE.render("en")))


def weakness(key: object) -> Text | None:
    """Why a public key is too weak to accept, or None."""
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        return t("khóa RSA phải dài ít nhất {n} bit (khóa này: {bits}).",
                 "RSA keys must have at least {n} bits (this one: {bits}).", n=MIN_RSA_BITS, bits=key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size < MIN_EC_BITS:
        return t("khóa EC phải trên đường cong từ {n} bit (khóa này: {curve}, {bits} bit).",
                 "EC keys must be on a curve of at least {n} bits (this one: {curve}, {bits} bits).",
                 n=MIN_EC_BITS, curve=key.curve.name, bits=key.curve.key_size)
    if isinstance(key, dsa.DSAPublicKey):
        return t("không nhận khóa DSA.", "DSA keys are not accepted.")
    return None
