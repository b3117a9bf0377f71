"""BER values of the LDAP controls ldap3 does not build itself: server-side sort, VLV, transactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ldap3.core.results import RESULT_CODES
from pyasn1.codec.ber import decoder as ber_decoder

SORT_REQUEST = "1.2.840.113556.1.4.473"
VLV_REQUEST = "2.16.840.1.113730.3.4.9"
VLV_RESPONSE = "2.16.840.1.113730.3.4.10"
VLV_ERROR = 76  # slapd's answer to an offset past the end of the list
# ldap3 does not know this result code and raises KeyError while decoding the answer.
RESULT_CODES.setdefault(VLV_ERROR, "virtualListViewError")


@dataclass(frozen=True)
class VlvResponse:
    """What a VLV response control says: the list's size and the server's handle on it."""

    total: int
    result: int
    context: bytes


def ber_length(length: int) -> bytes:
    """A BER definite length."""
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def ber_octets(value: bytes) -> bytes:
    """A BER OCTET STRING."""
    return b"\x04" + ber_length(len(value)) + value


def ber_sequence(content: bytes) -> bytes:
    """A BER SEQUENCE around already encoded content."""
    return b"\x30" + ber_length(len(content)) + content


def ber_integer(value: int) -> bytes:
    """A BER INTEGER."""
    encoded = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True)
    return b"\x02" + ber_length(len(encoded)) + encoded


def sort_value(keys: Sequence[str]) -> bytes:
    """RFC 2891 SortKeyList: SEQUENCE OF SEQUENCE { attributeType, orderingRule [0] OPTIONAL,
    reverseOrder [1] BOOLEAN DEFAULT FALSE }; a key written '-attr' sorts descending."""
    items = b""
    for key in keys:
        attribute, _, rule = key.removeprefix("-").partition(":")
        body = ber_octets(attribute.encode())
        if rule:
            body += b"\x80" + ber_length(len(rule)) + rule.encode()
        if key.startswith("-"):
            body += b"\x81\x01\xff"
        items += ber_sequence(body)
    return ber_sequence(items)


def vlv_value(offset: int, after: int, context: bytes = b"") -> bytes:
    """VLV request: beforeCount 0, afterCount, byOffset [0] { offset (1-based), contentCount 0 },
    and the server's context of an earlier response when continuing the same sorted list."""
    by_offset = ber_integer(offset) + ber_integer(0)
    body = ber_integer(0) + ber_integer(after) + b"\xa0" + ber_length(len(by_offset)) + by_offset
    return ber_sequence(body + (ber_octets(context) if context else b""))


def vlv_response(value: bytes) -> VlvResponse:
    """Decode SEQUENCE { targetPosition, contentCount, virtualListViewResult, contextID OPTIONAL }."""
    if not value:
        return VlvResponse(0, 0, b"")
    decoded, _ = ber_decoder.decode(value)
    context = bytes(decoded[3]) if len(decoded) > 3 else b""
    return VlvResponse(total=int(decoded[1]), result=int(decoded[2]), context=context)
