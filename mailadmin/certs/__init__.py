"""X.509 certificates for binding to mailboxes: parse, describe, validate (no LDAP, no Flask)."""

from __future__ import annotations

from mailadmin.certs.anchors import load_trust_anchors
from mailadmin.certs.crl import load_crl
from mailadmin.certs.info import CertificateInfo, ldap_exact_assertion
from mailadmin.certs.parse import load_certificates, split_leaf
from mailadmin.certs.result import ValidationResult
from mailadmin.certs.validate import MailPolicy, validate

__all__ = [
    "CertificateInfo",
    "MailPolicy",
    "ValidationResult",
    "ldap_exact_assertion",
    "load_certificates",
    "load_crl",
    "load_trust_anchors",
    "split_leaf",
    "validate",
]
