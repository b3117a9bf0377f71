"""New recovery codes for an enrolled second factor: the old ones stop working in the same write.

Asked for with what turning the factor off asks for (the authenticator's current code or a recovery
code, checked and counted as at login by SecondFactorService.check), so an open session alone cannot
take the codes. The codes are made and stored as an enrolment's are (services/second_factor.py).
"""

from __future__ import annotations

import secrets

from mailadmin.services.second_factor import RECOVERY_CODES, Check, SecondFactorService, _recovery_code, _stored


def new_recovery_codes() -> tuple[list[str], list[str]]:
    """RECOVERY_CODES fresh codes as shown once, and as stored (salted SHA-256)."""
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    salt = secrets.token_hex(8)
    return codes, [_stored(salt, code) for code in codes]


def regenerate(factor: SecondFactorService, uid: str, code: str, source: str) -> list[str] | None:
    """New recovery codes for `uid` (audited), or None when `code` is refused (a failed login, throttled) or
    the person has no second factor; Conflict when the codes changed in another session meanwhile."""
    dn = factor.mailboxes.store.find_entry(uid).dn
    if not factor.enrolled(dn) or factor.check(uid, dn, code, source) not in (Check.OK, Check.RECOVERY):
        return None
    enrolment = factor.store.read(dn)  # read after the check: a recovery code typed is gone by now
    if enrolment is None:  # turned off meanwhile
        return None
    codes, stored = new_recovery_codes()
    factor.store.replace_recovery(dn, enrolment.recovery, stored)
    factor.audit.record("second_factor.recovery_regenerate", uid,
                        after={"method": "totp", "recovery_codes": len(codes)})
    return codes
