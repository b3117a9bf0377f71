"""Certificate sign-in: the official's bound certificate, passed on by the reverse proxy's TLS client authentication.

- nginx (`deploy-config nginx`) asks the browser for a certificate, verifies it against the trust anchors and
  passes it on in a header; the web layer believes that header only from web.trusted_proxy, the TCP peer
  (web/cert_signin.py).
- Here it is checked again with the rules of binding (certs/validate.py: chain to the trust anchors, dates,
  key usage, key strength, CRLs) and mapped to its account by the bound fingerprint (maCertFingerprint), never
  by a name written in it. The proxy's own verdict must be SUCCESS as well.
- After the password, it is the second factor of that same account. Alone, it signs in only holders of
  auth.certificate_only_roles. Every attempt is audited (`login.certificate`); a refused one counts in the
  login throttle as a wrong second-factor code does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from mailadmin.audit import AuditLog
from mailadmin.certs import load_certificates, split_leaf, validate
from mailadmin.certs.keys import fingerprint_key
from mailadmin.directory.roles import RoleHolder, RoleStore
from mailadmin.directory.second_factor import SECOND_FACTOR_CLASS
from mailadmin.errors import ConfigError, InvalidInput, MailadminError
from mailadmin.i18n import Text, t
from mailadmin.model import Mailbox
from mailadmin.services.auth import Account, LoginOutcome, LoginThrottle, Result
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.services.second_factor import policy_roles
from mailadmin.settings import Auth

VERIFIED = "SUCCESS"  # nginx's $ssl_client_verify for a certificate it verified
USABLE_SECONDS = 60.0  # how long "has a usable certificate" is remembered per person (checked every request)


@dataclass(frozen=True)
class Presented:
    """A certificate the trusted proxy passed on: PEM text and the proxy's verdict ($ssl_client_verify)."""

    pem: str
    verdict: str


class CertificateSignIn:
    """Checks presented certificates and says who holds a certificate usable for sign-in."""

    def __init__(self, certificates: CertificateService, roles: RoleStore, throttle: LoginThrottle,
                 audit: AuditLog, policy: Auth, clock: Callable[[], float] = time.time) -> None:
        self.certificates = certificates
        self.roles = roles
        self.throttle = throttle
        self.audit = audit
        self.enabled = policy.certificate_sign_in
        self.only_roles = policy_roles(policy.certificate_only_roles, "auth.certificate_only_roles")
        self.clock = clock
        self._usable: dict[str, tuple[bool, float]] = {}
        self._lock = threading.Lock()

    # -- sign-in -------------------------------------------------------------------------

    def sign_in(self, presented: Presented, source: str, pending_dn: str | None) -> LoginOutcome:
        """Check a certificate from `source`: after the password of `pending_dn`, or alone (None)."""
        try:
            leaf = _leaf(presented.pem)
        except InvalidInput as error:
            return self._refused(source, "-", None, error.message, pending_dn)
        fingerprint = fingerprint_key(leaf)
        if self.throttle.blocked(source, f"certificate:{fingerprint}") or \
                (pending_dn is not None and self.throttle.silenced(source, pending_dn)):
            return LoginOutcome(Result.THROTTLED)
        try:
            holder, reason = self._match(leaf, presented.verdict, pending_dn)
        except MailadminError as error:  # the directory or the configuration failed: not the person's fault
            return LoginOutcome(Result.UNAVAILABLE, reason=error.message)
        if reason is not None:
            return self._refused(source, fingerprint, holder, reason, pending_dn)
        assert holder is not None
        return self._granted(source, fingerprint, holder, pending_dn)

    def _match(self, leaf: x509.Certificate, verdict: str,
               pending_dn: str | None) -> tuple[RoleHolder | None, Text | None]:
        """The certificate's account and, if it may not sign in, why."""
        problems = self.problems(leaf, verdict)
        if problems:
            return None, _joined(problems)
        holder = self._owner(fingerprint_key(leaf))
        if holder is None:
            return None, t("Chứng thư số này chưa được gắn với tài khoản nào; nhờ quản trị đơn vị gắn chứng thư "
                           "vào hộp thư của bạn.",
                           "this certificate is not bound to any account; ask your unit's administrator to bind "
                           "it to your mailbox.")
        return holder, self._refusal(holder, pending_dn)

    def _owner(self, fingerprint: str) -> RoleHolder | None:
        owners = self.certificates.store.by_fingerprint(fingerprint)
        return self.roles.holder(owners[0].text("uid")) if len(owners) == 1 else None

    def _refusal(self, holder: RoleHolder, pending_dn: str | None) -> Text | None:
        """Why this account may not sign in with its certificate now, or None."""
        if holder.status != "active":
            return t("Tài khoản của chứng thư này đang bị tạm khóa hoặc đã thôi sử dụng.",
                     "the account of this certificate is suspended or retired.")
        if pending_dn is not None and pending_dn.lower() != holder.dn.lower():
            return t("Chứng thư số này thuộc một tài khoản khác với tài khoản vừa nhập mật khẩu.",
                     "this certificate belongs to another account than the one whose password was typed.")
        if pending_dn is None and not self.alone_for(holder):
            return t("Hãy đăng nhập bằng mật khẩu trước; chứng thư số là bước thứ hai.",
                     "sign in with your password first; the certificate is the second step.")
        return None

    def alone_for(self, holder: RoleHolder) -> bool:
        """True if this person signs in to the web admin with the certificate alone (never the password)."""
        return self.enabled and _principal(holder).signs_in_with_certificate_alone(self.only_roles)

    def _granted(self, source: str, fingerprint: str, holder: RoleHolder, pending_dn: str | None) -> LoginOutcome:
        self.throttle.clear(source, f"certificate:{fingerprint}", holder.dn)
        self.audit.record("login.certificate", holder.uid,
                          after={"outcome": "ok", "fingerprint": fingerprint, "step": _step(pending_dn)})
        return LoginOutcome(Result.OK, Account(holder.dn, holder.uid, holder, epoch=holder.epoch))

    def _refused(self, source: str, fingerprint: str, holder: RoleHolder | None, reason: Text,
                 pending_dn: str | None) -> LoginOutcome:
        dn = holder.dn if holder is not None else pending_dn
        self.throttle.fail(source, f"certificate:{fingerprint}", dn)
        self.audit.record("login.certificate", holder.uid if holder is not None else fingerprint,
                          after={"outcome": "refused", "fingerprint": fingerprint, "step": _step(pending_dn),
                                 "reason": reason.both()})
        return LoginOutcome(Result.REFUSED, reason=reason)

    # -- who has a certificate usable for sign-in ----------------------------------------

    def problems(self, leaf: x509.Certificate, verdict: str = VERIFIED) -> list[Text]:
        """Why `leaf` may not sign anyone in now: the rules of binding (no mail rule), then the proxy's verdict."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        result = validate(leaf, [], anchors=self.certificates.anchors, now=now, mailbox_addresses=(),
                          mail_policy="ignore", crls=self.certificates.crls)
        if result.errors or verdict == VERIFIED:
            return list(result.errors)
        return [t("Máy chủ trung gian (nginx) không xác minh được chứng thư: {verdict}.",
                  "the reverse proxy (nginx) could not verify the certificate: {verdict}.", verdict=verdict[:200])]

    def usable(self, mailbox: Mailbox) -> bool:
        """True if one of the mailbox's bound certificates would sign it in now."""
        return any(not self.problems(x509.load_der_x509_certificate(der)) for der in mailbox.certificates)

    def needs_second_step(self, holder: RoleHolder) -> bool:
        """True if the password alone does not sign this person in: TOTP enrolled, or a certificate factor."""
        return holder.second_factor or self.certificate_factor(holder, fresh=True)

    def certificate_factor(self, holder: RoleHolder, *, fresh: bool = False) -> bool:
        """True if (certificate sign-in on) this role holder has a bound certificate usable for sign-in.

        Remembered a minute per person (pages ask at every request); `fresh` reads the directory now.
        """
        return self.enabled and bool(holder.roles) and self._usable_for(holder.uid, fresh)

    def _usable_for(self, uid: str, fresh: bool) -> bool:
        now = time.monotonic()
        with self._lock:
            known = self._usable.get(uid)
        if known is not None and known[1] > now and not fresh:
            return known[0]
        entry = self.certificates.store.by_uid(uid)
        usable = entry is not None and self.usable(self.certificates.store.mailbox(entry))
        with self._lock:
            self._usable[uid] = (usable, now + USABLE_SECONDS)
        return usable

    def coverage(self, totp: tuple[int, int]) -> tuple[int, int]:
        """(role holders, with a second factor): `totp` (from SecondFactorService) plus usable certificates."""
        if not self.enabled:
            return totp
        with_certificate = sum(map(self.usable, self.certificates.store.role_holders(SECOND_FACTOR_CLASS)))
        return totp[0], totp[1] + with_certificate


def check_policy(policy: Auth) -> None:
    """Stop the start on a certificate-only policy that cannot work: unknown roles, or sign-in turned off."""
    roles = policy_roles(policy.certificate_only_roles, "auth.certificate_only_roles")
    if roles and not policy.certificate_sign_in:
        raise ConfigError(t("auth.certificate_only_roles cần auth.certificate_sign_in: true (nếu không, những vai "
                            "trò này không đăng nhập được)",
                            "auth.certificate_only_roles needs auth.certificate_sign_in: true (else holders of "
                            "these roles could not sign in at all)"))


def _leaf(pem: str) -> x509.Certificate:
    """The one end-entity certificate of the header's PEM text."""
    if not pem.strip():
        raise InvalidInput(t("Không có chứng thư số nào được gửi.", "no certificate was sent."))
    return split_leaf(load_certificates(pem.encode("utf-8", "replace")))[0]


def _joined(problems: list[Text]) -> Text:
    return t("{reasons_vi}", "{reasons_en}", reasons_vi=" ".join(p.render("vi") for p in problems),
             reasons_en=" ".join(p.render("en") for p in problems))


def _step(pending_dn: str | None) -> str:
    return "second_factor" if pending_dn is not None else "certificate_only"


def _principal(holder: RoleHolder) -> Principal:
    return Principal(holder.uid, holder.name, holder.roles, holder.scopes, holder.second_factor)
