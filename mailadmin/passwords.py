"""Password hashing in schemes slapd verifies on bind, and strong random passwords."""

from __future__ import annotations

import secrets
import string

from passlib.hash import argon2, ldap_salted_sha512

from mailadmin.settings import Passwords

# No look-alikes (0/O, 1/l/I) in passwords people copy from a sheet of paper.
_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
_SYMBOLS = "-_.+!#"


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
    """A random password with letters, digits and a symbol, easy to copy by hand."""
    while True:
        body = [secrets.choice(_ALPHABET) for _ in range(length - 1)]
        body.insert(secrets.randbelow(length), secrets.choice(_SYMBOLS))
        password = "".join(body)
        if any(c.isdigit() for c in password) and any(c.isupper() for c in password) \
                and any(c.islower() for c in password):
            return password
