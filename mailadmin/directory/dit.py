"""The shape of the directory tree: every DN mailadmin writes is built here, escaped."""

from __future__ import annotations

from functools import lru_cache

from ldap3.utils.dn import escape_rdn, parse_dn

SYSTEM_OU = "system"
POLICIES_OU = "policies"
HISTORY_OU = "history"  # units that no longer exist, kept flat by code (docs/reorg.md)
RESERVED_UNIT_CODES = frozenset({SYSTEM_OU, POLICIES_OU, HISTORY_OU})


def rdn(attribute: str, value: str) -> str:
    """One RDN with its value escaped per RFC 4514."""
    return f"{attribute}={escape_rdn(value)}"


def service_dn(base_dn: str) -> str:
    """The account the web app, the CLI and the SMTP service bind as."""
    return f"cn=mailadmin,ou={SYSTEM_OU},{base_dn}"


def root_dn(base_dn: str) -> str:
    """slapd's rootdn of the private directory (no entry; used for set-up only)."""
    return f"cn=root,ou={SYSTEM_OU},{base_dn}"


def default_policy_dn(base_dn: str) -> str:
    """Password policy of people: lockout, forced change after reset."""
    return f"cn=default,ou={POLICIES_OU},{base_dn}"


def service_policy_dn(base_dn: str) -> str:
    """Password policy of service accounts: no lockout (a typo must not stop mail)."""
    return f"cn=service,ou={POLICIES_OU},{base_dn}"


def unit_dn(path: tuple[str, ...], base_dn: str) -> str:
    """A unit's DN from the codes above it: ('54', '555') -> ou=555,ou=54,<base>."""
    return ",".join([rdn("ou", code) for code in reversed(path)] + [base_dn])


def history_dn(base_dn: str) -> str:
    """The container of former units: outside the unit tree, so nothing that walks the tree sees them."""
    return f"ou={HISTORY_OU},{base_dn}"


def former_unit_dn(code: str, base_dn: str) -> str:
    """Where a closed or merged-away unit is kept: ou=557,ou=history,<base>."""
    return f"{rdn('ou', code)},{history_dn(base_dn)}"


def is_former_unit(dn: str, base_dn: str) -> bool:
    """Is this entry kept in the history container?"""
    path = unit_path_of(dn, base_dn)
    return len(path) > 1 and path[0].lower() == HISTORY_OU


def mailbox_dn(uid: str, unit_path: tuple[str, ...], base_dn: str) -> str:
    """A mailbox lives directly below its unit."""
    return f"{rdn('uid', uid)},{unit_dn(unit_path, base_dn)}"


@lru_cache(maxsize=8192)
def unit_path_of(dn: str, base_dn: str) -> tuple[str, ...]:
    """The unit codes of a unit DN, top first: ou=555,ou=54,<base> -> ('54', '555')."""
    return tuple(value for _, value in reversed(_ou_rdns(dn, base_dn)))


def parent_unit_path(dn: str, base_dn: str) -> tuple[str, ...]:
    """The unit codes above an entry (a mailbox's unit path)."""
    return unit_path_of(parent_dn(dn), base_dn)


def parent_dn(dn: str) -> str:
    """The DN without its first RDN (an escaped comma inside the RDN does not count)."""
    index = 0
    while index < len(dn):
        if dn[index] == "\\":
            index += 2
            continue
        if dn[index] == ",":
            return dn[index + 1 :].lstrip()
        index += 1
    return ""


def _ou_rdns(dn: str, base_dn: str) -> list[tuple[str, str]]:
    parts = parse_dn(dn, escape=False, strip=True)
    relative = parts[: len(parts) - len(parse_dn(base_dn, escape=False, strip=True))]
    return [(attr, _unescape(value)) for attr, value, _ in relative if attr.lower() == "ou"]


def _unescape(value: str) -> str:
    """Undo RFC 4514 escaping: backslash + character, or backslash + two hex digits (UTF-8 bytes)."""
    out = bytearray()
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            pair = value[index + 1 : index + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out += bytes.fromhex(pair)
                index += 3
                continue
            out += value[index + 1].encode("utf-8")
            index += 2
            continue
        out += char.encode("utf-8")
        index += 1
    return out.decode("utf-8", errors="replace")
