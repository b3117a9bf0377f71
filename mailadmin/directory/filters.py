"""LDAP filter building: every value passes through escaping, no string is spliced in raw."""

from __future__ import annotations

from ldap3.utils.conv import escape_filter_chars

MAX_FILTER_VALUE = 256


def _value(value: str) -> str:
    return escape_filter_chars(value[:MAX_FILTER_VALUE])


def eq(attribute: str, value: str) -> str:
    """(attribute=value), value escaped."""
    return f"({attribute}={_value(value)})"


def contains(attribute: str, value: str) -> str:
    """(attribute=*value*), value escaped."""
    return f"({attribute}=*{_value(value)}*)"


def prefix(attribute: str, value: str) -> str:
    """(attribute=value*), value escaped."""
    return f"({attribute}={_value(value)}*)"


def present(attribute: str) -> str:
    """(attribute=*)."""
    return f"({attribute}=*)"


def all_of(*parts: str) -> str:
    """(&…); a single part stands alone."""
    parts = tuple(p for p in parts if p)
    return parts[0] if len(parts) == 1 else f"(&{''.join(parts)})"


def any_of(*parts: str) -> str:
    """(|…); a single part stands alone; none matches nothing."""
    parts = tuple(p for p in parts if p)
    if not parts:
        return "(!(objectClass=*))"
    return parts[0] if len(parts) == 1 else f"(|{''.join(parts)})"


def negate(part: str) -> str:
    """(!…)."""
    return f"(!{part})"
