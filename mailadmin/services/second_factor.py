"""A second factor for the web admin: TOTP (RFC 6238) with single-use recovery codes.

- The secret is encrypted (Fernet, key in <state>/secrets/second-factor.key, 0600) before it is
  written to the person's entry, which only the service account reads (slapd ACL).
- A code is accepted once: its time step must be later than the last one used, and the step is
  taken by a compare-and-swap write (directory/second_factor.py), so two processes cannot both
  accept it. A recovery code is stored as a salted SHA-256 and deleted when used.
- A wrong code is a failed login: it is counted by the login throttle (services/auth.py).
- Mail clients (SMTP, IMAP) cannot ask for a code: they stay on the password (docs/web.md).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken

from mailadmin.audit import AuditLog
from mailadmin.directory.second_factor import Enrolment, SecondFactorStore
from mailadmin.errors import ConfigError, InvalidInput
from mailadmin.i18n import t
from mailadmin.model import Mailbox, Role
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.services.auth import LoginThrottle
from mailadmin.services.authz import Principal, require
from mailadmin.services.mailboxes import MailboxService

RECOVERY_CODES = 10
STEP_SECONDS = 30
ISSUER = "mailadmin"
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class Check(enum.Enum):
    """What a code typed at login turned out to be."""

    OK = "ok"  # a fresh TOTP code
    RECOVERY = "recovery"  # an unused recovery code (now used)
    WRONG = "wrong"  # wrong, replayed or already used (counted as a failed login)
    THROTTLED = "throttled"  # too many failures from this source: not checked


@dataclass(frozen=True)
class Confirmed:
    """A confirmed enrolment: the recovery codes to show once and the person's new session epoch."""

    recovery_codes: list[str]
    epoch: str


def policy_roles(names: tuple[str, ...], key: str = "auth.second_factor_roles") -> frozenset[Role]:
    """A list of role names from the configuration (`key`) as roles; an unknown name is a configuration error."""
    known = {role.value for role in Role}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise ConfigError(t("{key} có vai trò không biết: {names}", "{key} names unknown roles: {names}",
                            key=key, names=", ".join(unknown)))
    return frozenset(Role(name.lower()) for name in names)


class SecretBox:
    """Encrypts TOTP secrets with a key file created on first use (mode 0600)."""

    def __init__(self, key_file: Path) -> None:
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = read_or_create_secret(key_file, 32)
        self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()))

    def seal(self, secret: str) -> str:
        """The secret encrypted (ASCII)."""
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The secret, or None if it was not sealed with this key."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, ValueError):
            return None


class SecondFactorService:
    """Enrolment, checks at login, disabling and resets of TOTP second factors."""

    def __init__(self, store: SecondFactorStore, mailboxes: MailboxService, box: SecretBox, audit: AuditLog,
                 throttle: LoginThrottle, required_roles: frozenset[Role],
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.mailboxes = mailboxes
        self.box = box
        self.audit = audit
        self.throttle = throttle
        self.required_roles = required_roles
        self.clock = clock

    # -- enrolment -----------------------------------------------------------------------

    @staticmethod
    def new_secret() -> str:
        """A fresh random TOTP secret (base32, 160 bits)."""
        return pyotp.random_base32(32)

    @staticmethod
    def qr_svg(secret: str, account: str) -> str:
        """The otpauth:// URI of the secret as an inline SVG QR code (drawn here: no script, no CDN)."""
        uri = pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)
        return segno.make(uri, error="m").svg_inline(scale=4, light="#fff", title="otpauth")

    def enrolled(self, dn: str) -> bool:
        """True if the person has a second factor."""
        return self.store.read(dn) is not None

    def confirm(self, uid: str, secret: str, code: str) -> Confirmed:
        """Activate `secret` once `code` proves the authenticator has it; InvalidInput otherwise."""
        step = self._matching_step(secret, code, None)
        if step is None:
            raise InvalidInput(t("Mã xác nhận không đúng; kiểm tra giờ của điện thoại rồi nhập mã mới.",
                                 "the confirmation code is wrong; check the phone's clock and type a new code."),
                               "code")
        codes, stored = new_recovery_codes()
        dn = self.mailboxes.store.find_entry(uid).dn
        epoch = self.store.enrol(dn, self.box.seal(secret), step, stored)
        self.audit.record("second_factor.enrol", uid, after={"method": "totp", "recovery_codes": len(codes)})
        return Confirmed(codes, epoch)

    def regenerate_recovery(self, uid: str, code: str, source: str) -> list[str] | None:
        """New recovery codes for `uid` (audited), the old ones void in the same write; None when `code` is
        refused (a failed login, throttled) or there is no second factor; Conflict when the codes changed in
        another session meanwhile. Asked with what turning the factor off asks: an open session alone cannot."""
        dn = self.mailboxes.store.find_entry(uid).dn
        if not self.enrolled(dn) or self.check(uid, dn, code, source) not in (Check.OK, Check.RECOVERY):
            return None
        enrolment = self.store.read(dn)  # read after the check: a recovery code typed is gone by now
        if enrolment is None:  # turned off meanwhile
            return None
        codes, stored = new_recovery_codes()
        self.store.replace_recovery(dn, enrolment.recovery, stored)
        self.audit.record("second_factor.recovery_regenerate", uid,
                          after={"method": "totp", "recovery_codes": len(codes)})
        return codes

    def disable(self, uid: str, code: str, source: str) -> None:
        """The owner removes their own second factor with a current or recovery code (an open session
        alone must not do it); their other sessions and tokens end. Not enrolled: nothing."""
        dn = self.mailboxes.store.find_entry(uid).dn
        if not self.enrolled(dn):
            return
        if self.check(uid, dn, code, source) not in (Check.OK, Check.RECOVERY):
            raise InvalidInput(t("Mã không đúng, đã dùng hoặc nhập sai quá nhiều lần: nhập mã hiện tại của ứng "
                                 "dụng xác thực hoặc một mã khôi phục",
                                 "the code is wrong, used, or tried too often: type the authenticator's current "
                                 "code or a recovery code"), "code")
        self.store.remove(dn)
        self.audit.record("second_factor.disable", uid, before={"method": "totp"})

    def reset(self, person: Principal, mailbox: Mailbox) -> None:
        """A super admin removes someone's second factor (moves their session epoch)."""
        self.mailboxes.authorize_change(person, mailbox)
        require(person.may_reset_second_factor(mailbox.uid))
        self.reset_by_operator(mailbox)

    def reset_by_operator(self, mailbox: Mailbox) -> None:
        """Remove someone's second factor from the command line (the operator holds the state folder)."""
        self.store.remove(self.mailboxes.store.find_entry(mailbox.uid).dn)
        self.audit.record("second_factor.reset", mailbox.uid, before={"method": "totp"},
                          after={"unit_code": mailbox.unit_code})

    def required(self, person: Principal) -> bool:
        """True if the person's roles require a second factor they have not enrolled."""
        return person.must_enrol(self.required_roles)

    def coverage(self) -> tuple[int, int]:
        """(role holders, role holders with a second factor)."""
        return self.store.count_holders()

    # -- login ---------------------------------------------------------------------------

    def check(self, uid: str, dn: str, code: str, source: str) -> Check:
        """Check a code typed after the password: TOTP once per step, or a recovery code once."""
        key = f"second-factor:{uid}"
        if self.throttle.blocked(source, key) or self.throttle.silenced(source, dn):
            return Check.THROTTLED
        result = self._check(uid, dn, code)
        if result is Check.WRONG:
            self.throttle.fail(source, key, dn)
        else:
            self.throttle.clear(source, key, dn)
        return result

    def _check(self, uid: str, dn: str, code: str) -> Check:
        enrolment = self.store.read(dn)
        if enrolment is None or len(code) > 64:
            return Check.WRONG
        typed = "".join(code.split())
        if typed.isdigit():
            return self._check_totp(dn, enrolment, typed)
        return self._check_recovery(uid, dn, enrolment, typed)

    def _check_totp(self, dn: str, enrolment: Enrolment, code: str) -> Check:
        secret = self.box.open(enrolment.secret)
        step = self._matching_step(secret, code, enrolment.last_step) if secret else None
        if step is None or not self.store.take_step(dn, enrolment.last_step, step):
            return Check.WRONG
        return Check.OK

    def _check_recovery(self, uid: str, dn: str, enrolment: Enrolment, code: str) -> Check:
        typed = code.replace("-", "").lower()
        for stored in enrolment.recovery:
            salt, _, digest = stored.partition("$")
            if hmac.compare_digest(_stored(salt, typed).partition("$")[2], digest):
                if not self.store.take_recovery(dn, stored):
                    return Check.WRONG
                left = len(enrolment.recovery) - 1
                self.audit.record("second_factor.recovery_used", uid, after={"recovery_codes_left": left})
                return Check.RECOVERY
        return Check.WRONG

    def _matching_step(self, secret: str, code: str, after: int | None) -> int | None:
        """The time step (now, or one step either side for clock drift) whose code is `code`, later than `after`."""
        code = "".join(code.split())
        if not (code.isdigit() and len(code) == 6):
            return None
        totp, now = pyotp.TOTP(secret), int(self.clock()) // STEP_SECONDS
        for step in (now - 1, now, now + 1):
            if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
                return step
        return None


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """RECOVERY_CODES fresh codes as shown once, and as stored (salted SHA-256)."""
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    salt = secrets.token_hex(8)
    return codes, [_stored(salt, code) for code in codes]


def _recovery_code() -> str:
    """A random recovery code of 10 letters and digits (50 bits), shown as xxxxx-xxxxx."""
    letters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def _stored(salt: str, code: str) -> str:
    """How a recovery code is kept: the salt, $, SHA-256 of salt and code (without the dash)."""
    plain = code.replace("-", "").lower()
    return f"{salt}${hashlib.sha256((salt + plain).encode()).hexdigest()}"
