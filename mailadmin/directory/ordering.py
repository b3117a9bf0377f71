"""The server's sort order, reproduced in Python for the values where that can be done exactly.

A kept list that takes in the service's own writes (sorted_views.py) must place an entry where
slapd's sssvlv would: same ordering rule, missing values last (first when reversed), the least
value of a multi-valued attribute. slapd compares normalised values; the rules below normalise
printable ASCII the way slapd does. Any other value raises Unordered, and the caller sorts on the
server instead: a guess is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, total_ordering
from typing import Any

_SPACES = re.compile(" +")


class Unordered(ValueError):
    """A value whose server-side order this module cannot reproduce exactly (never shown to anyone)."""


def _ascii(value: bytes) -> str:
    # For ASCII text, isprintable() is exactly the range 0x20-0x7e.
    if not value.isascii() or not (text := value.decode("ascii")).isprintable():
        raise Unordered(repr(value))
    text = text.strip(" ")
    return _SPACES.sub(" ", text) if "  " in text else text  # slapd's insignificant-space handling


def _case_exact(value: bytes) -> Any:
    return _ascii(value)


def _case_ignore(value: bytes) -> Any:
    return _ascii(value).lower()


def _integer(value: bytes) -> Any:
    return int(_ascii(value))


RULES: dict[str, Callable[[bytes], Any]] = {
    "caseexactorderingmatch": _case_exact,
    "caseignoreorderingmatch": _case_ignore,
    "generalizedtimeorderingmatch": _case_exact,  # slapd returns the normalised YYYYmmddHHMMSSZ form
    "integerorderingmatch": _integer,
}


@dataclass(frozen=True)
class SortKey:
    """One key of a server-side sort: attribute, ordering rule, direction."""

    attribute: str
    rule: str
    reverse: bool

    @classmethod
    def parse(cls, spec: str) -> SortKey:
        """From 'attr:rule', '-attr:rule' (descending)."""
        reverse = spec.startswith("-")
        attribute, _, rule = spec.lstrip("-").partition(":")
        return cls(attribute, rule, reverse)

    def value(self, raw: Sequence[bytes]) -> tuple[int, Any]:
        """(0, least normalised value) or (1, '') when absent: RFC 2891 puts missing values last."""
        normalise = RULES.get(self.rule.lower())
        if normalise is None:
            raise Unordered(self.rule)
        if not raw:
            return (1, "")
        return (0, normalise(raw[0]) if len(raw) == 1 else min(normalise(value) for value in raw))


@total_ordering
class _Reversed:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __hash__(self) -> int:
        return hash(self.value)


def order_key(keys: Sequence[str], values: Callable[[str], Sequence[bytes]]) -> tuple[Any, ...]:
    """A Python key that orders entries as slapd sorts them by `keys`; `values(attr)` gives raw values."""
    parts: list[Any] = []
    for key in _parsed(tuple(keys)):
        part = key.value(values(key.attribute))
        parts.append(_Reversed(part) if key.reverse else part)
    return tuple(parts)


@lru_cache(maxsize=64)
def _parsed(keys: tuple[str, ...]) -> tuple[SortKey, ...]:
    # A page orders every row it reads by the same few keys: parse them once.
    return tuple(SortKey.parse(spec) for spec in keys)


def key_attributes(keys: Sequence[str]) -> tuple[str, ...]:
    """The attributes a sort reads."""
    return tuple(key.attribute for key in _parsed(tuple(keys)))
