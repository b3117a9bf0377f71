"""Password hashing in schemes slapd verifies on bind, and strong random passwords."""

from __future__ import annotations

import secrets
import string
import unicodedata
from collections.abc import Iterable

from passlib.hash import argon2, ldap_salted_sha1, ldap_salted_sha512
from zxcvbn import zxcvbn

from mailadmin.i18n import Text, t
from mailadmin.names import fold
from mailadmin.settings import Passwords

# No look-alikes (0/O, 1/l/I) in passwords people copy from a sheet of paper.
_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
_SYMBOLS = "-_.+!#"
MIN_GENERATED, MAX_GENERATED = 4, 256  # a digit, two cases and a symbol; a place drawn from one byte
# Two random bytes per character of the body (rejection throws ~11% away) and this many for each of the
# symbol's place and kind: at 16 characters an attempt falls short once in ~2*10^9, and is drawn again.
_SPARE = 8


def hash_chosen(password: str, policy: Passwords) -> str:
    """argon2id, for passwords people choose: slow on purpose, verified by slapd's argon2 module."""
    hasher = argon2.using(
        type="ID", time_cost=policy.argon2_time_cost, memory_cost=policy.argon2_memory_kib,
        parallelism=1,
    )
    return "{ARGON2}" + hasher.hash(password)


def hash_generated(password: str) -> str:
    """Salted SHA-512, for random initial passwords of ~95 bits that must be changed at first login.

    A slow hash protects guessable passwords; these are not guessable, and bulk imports
    of thousands of accounts must not spend minutes hashing.
    """
    return ldap_salted_sha512.hash(password)


def generate_password(length: int = 16) -> str:
    """A random password with letters, digits and a symbol, easy to copy by hand.

    One os.urandom call per attempt: secrets.choice makes one per character (17 per password).
    """
    if not MIN_GENERATED <= length <= MAX_GENERATED:
        raise ValueError(f"length {length} outside {MIN_GENERATED}..{MAX_GENERATED}")
    while True:
        password = _attempt(length, secrets.token_bytes(2 * length + 2 * _SPARE))
        if password is not None and _mixed(password):
            return password


def _attempt(length: int, raw: bytes) -> str | None:
    """length - 1 letters and digits with a symbol at a random place, from `raw`; None when it fell short."""
    body = _uniform(raw[:2 * length], len(_ALPHABET))[:length - 1]
    place = _uniform(raw[2 * length:2 * length + _SPARE], length)
    symbol = _uniform(raw[2 * length + _SPARE:], len(_SYMBOLS))
    if len(body) < length - 1 or not place or not symbol:
        return None
    chars = [_ALPHABET[index] for index in body]
    chars.insert(place[0], _SYMBOLS[symbol[0]])
    return "".join(chars)


def _uniform(raw: bytes, size: int) -> list[int]:
    """Numbers uniform in range(size): bytes from the last multiple of size up are thrown away (no modulo bias)."""
    limit = 256 - 256 % size
    return [byte % size for byte in raw if byte < limit]


def _mixed(password: str) -> bool:
    return any(c.isdigit() for c in password) and any(c.isupper() for c in password) \
        and any(c.islower() for c in password)


# Words a Vietnamese official reaches for that zxcvbn's English dictionaries do not know.
LOCAL_WORDS = ("matkhau", "mat khau", "mk", "password", "thudientu", "congvu", "email", "ubnd", "tinh", "huyen",
               "phuyen", "daklak", "daklac", "tuyhoa", "vietnam", "hanoi", "admin", "quantri")
MAX_CHECKED_LENGTH = 100  # zxcvbn's cost grows with length; a longer password is long enough anyway
PERSONAL_MIN_LENGTH = 4   # shorter parts ("An", "Văn", "Thị") are inside too many ordinary words to refuse


def weakness(password: str, policy: Passwords, personal: Iterable[str] = ()) -> Text | None:
    """Why a chosen password is too weak, or None: length, the owner's address or name, guessability."""
    if any(unicodedata.category(ch).startswith("C") for ch in password):  # SASLprep refuses them at every bind
        return t("Mật khẩu không được chứa ký tự điều khiển hoặc ký tự ẩn",
                 "the password must not contain control or invisible characters")
    if len(password) < policy.min_length:
        return t("Mật khẩu cần ít nhất {n} ký tự", "the password needs at least {n} characters", n=policy.min_length)
    words = {fold(word) for word in personal} - {""}
    folded = fold(password)
    if any(len(word) >= PERSONAL_MIN_LENGTH and word in folded for word in words):
        return t("Mật khẩu không được chứa tên hoặc địa chỉ thư của bạn",
                 "the password must not contain your name or mail address")
    result = zxcvbn(password[:MAX_CHECKED_LENGTH], user_inputs=[*words, *LOCAL_WORDS])
    if result["score"] < policy.min_strength:
        return t("Mật khẩu quá dễ đoán (độ mạnh {s}/4, cần {n}/4): dùng một câu dài vài từ, thêm chữ số hoặc ký hiệu",
                 "the password is too easy to guess (strength {s}/4, {n}/4 needed): use a long phrase of several "
                 "words with digits or symbols", s=result["score"], n=policy.min_strength)
    return None


def matches(password: str, stored: str) -> bool:
    """True if `password` is the one behind a stored userPassword/pwdHistory value we know how to check.

    slapd's own argon2 module leaves a NUL and a stray byte after hashes it made (FACTS.md): cut there.
    """
    stored = stored.split("\x00", 1)[0]
    scheme, _, body = stored.partition("}")
    try:
        if scheme.upper() == "{ARGON2":
            return bool(argon2.verify(password, body))
        if scheme.upper() == "{SSHA512":
            return bool(ldap_salted_sha512.verify(password, stored))
        if scheme.upper() == "{SSHA":
            return bool(ldap_salted_sha1.verify(password, stored))
    except (ValueError, TypeError):
        return False
    return False
