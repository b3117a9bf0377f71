"""LDIF (RFC 2849) writing for set-up and benchmarks: the same entries ldapadd and slapadd take."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence

Attributes = Mapping[str, Sequence[str | bytes]]
_SAFE = re.compile(r"^[\x01-\x09\x0b-\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b-\x0c\x0e-\x7f]*$")


def _line(name: str, value: str | bytes) -> str:
    if isinstance(value, bytes):
        return f"{name}:: {base64.b64encode(value).decode('ascii')}"
    if value and _SAFE.match(value) and not value.endswith(" "):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode('utf-8')).decode('ascii')}"


def entry_ldif(dn: str, attributes: Attributes) -> str:
    """One entry as an LDIF record (non-ASCII values base64-encoded), ending with a blank line."""
    lines = [_line("dn", dn)]
    for name, values in attributes.items():
        lines.extend(_line(name, value) for value in values)
    return "\n".join(lines) + "\n\n"


def write_ldif(entries: Iterable[tuple[str, Attributes]]) -> Iterable[str]:
    """Records for a stream of (dn, attributes)."""
    for dn, attributes in entries:
        yield entry_ldif(dn, attributes)


def add_ldif(dn: str, attributes: Attributes) -> str:
    """An add change record (ldapmodify)."""
    return entry_ldif(dn, attributes).replace("\n", "\nchangetype: add\n", 1)


def modify_ldif(dn: str, replaced: Attributes) -> str:
    """A modify change record replacing each attribute's values (none: the attribute goes)."""
    lines = [_line("dn", dn), "changetype: modify"]
    for name, values in replaced.items():
        lines += [f"replace: {name}", *(_line(name, value) for value in values), "-"]
    return "\n".join(lines) + "\n\n"


def modrdn_ldif(dn: str, new_rdn: str, new_superior: str) -> str:
    """A modrdn change record (the old RDN deleted)."""
    return "\n".join([_line("dn", dn), "changetype: modrdn", _line("newrdn", new_rdn), "deleteoldrdn: 1",
                      _line("newsuperior", new_superior)]) + "\n\n"


def delete_ldif(dn: str) -> str:
    """A delete change record."""
    return "\n".join([_line("dn", dn), "changetype: delete"]) + "\n\n"
