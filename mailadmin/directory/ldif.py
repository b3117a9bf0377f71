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


def read_ldif(text: str) -> list[tuple[str, dict[str, list[str]]]]:
    """Content records of an LDIF text (folded lines, base64 values, comments); text values only."""
    records: list[tuple[str, dict[str, list[str]]]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        pairs = [_pair(line) for line in _unfold(block)]
        if pairs and pairs[0][0].lower() == "dn":
            attributes: dict[str, list[str]] = {}
            for name, value in pairs[1:]:
                attributes.setdefault(name, []).append(value)
            records.append((pairs[0][1], attributes))
    return records


def _unfold(block: str) -> list[str]:
    lines: list[str] = []
    for line in block.split("\n"):
        if line.startswith(" ") and lines:
            lines[-1] += line[1:]
        elif line and not line.startswith("#"):
            lines.append(line)
    return lines


def _pair(line: str) -> tuple[str, str]:
    name, _, rest = line.partition(":")
    if rest.startswith(":"):
        return name, base64.b64decode(rest[1:].strip()).decode("utf-8")
    return name, rest[1:] if rest.startswith(" ") else rest


def change_ldif(dn: str, operations: Iterable[tuple[str, str, Sequence[str]]]) -> str:
    """A `changetype: modify` record: (add|delete|replace, attribute, values) each."""
    lines = [_line("dn", dn), "changetype: modify"]
    for operation, name, values in operations:
        lines.append(f"{operation}: {name}")
        lines.extend(_line(name, value) for value in values)
        lines.append("-")
    return "\n".join(lines) + "\n\n"


def add_ldif(dn: str, attributes: Attributes) -> str:
    """A `changetype: add` record, for ldapmodify."""
    record = entry_ldif(dn, attributes)
    first, _, rest = record.partition("\n")
    return f"{first}\nchangetype: add\n{rest}"
