"""Raw upload checks shared by the certificate and CRL readers: size, PEM blocks, DER framing."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from enum import Enum

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = b"-----BEGIN "
_BASE64_TEXT = re.compile(rb"[A-Za-z0-9+/=\s]+")
_SEQUENCE = 0x30


@dataclass(frozen=True)
class Kind:
    """What is being read, named in both languages for the messages."""

    vi: str
    en: str
    formats: str


class Framing(Enum):
    """How the outer DER element of a binary upload looks."""

    COMPLETE = "complete"
    TRUNCATED = "truncated"
    TRAILING = "trailing"
    NOT_DER = "not_der"
    UNKNOWN_LENGTH = "unknown_length"


@dataclass(frozen=True)
class PemBlock:
    """One `-----BEGIN label-----` block, its body already base64-decoded."""

    label: str
    der: bytes
    index: int


def check_size(data: bytes, max_bytes: int, kind: Kind) -> bytes:
    """Refuse empty (or blank) and over-size uploads; return the data as bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise InvalidInput(
            t(
                "Tệp {kind_vi} trống.",
                "The {kind_en} file is empty.",
                kind_vi=kind.vi,
                kind_en=kind.en,
            )
        )
    if len(data) > max_bytes:
        raise InvalidInput(
            t(
                "Tệp {kind_vi} quá lớn ({size} byte, tối đa {limit} byte).",
                "The {kind_en} file is too large ({size} bytes, at most {limit}).",
                kind_vi=kind.vi,
                kind_en=kind.en,
                size=len(data),
                limit=max_bytes,
            )
        )
    return data


def looks_like_pem(data: bytes) -> bool:
    """True when the data holds at least one PEM `-----BEGIN` line."""
    return _PEM_BEGIN in data


def pem_blocks(data: bytes, kind: Kind) -> list[PemBlock]:
    """Every complete PEM block, decoded; a BEGIN without its END is a truncated upload."""
    matches = list(_PEM_BLOCK.finditer(data))
    if len(matches) != data.count(_PEM_BEGIN):
        raise InvalidInput(
            t(
                "Tệp {kind_vi} dạng PEM bị cắt cụt: có dòng BEGIN mà không có dòng END tương ứng.",
                "The PEM {kind_en} file is truncated: a BEGIN line has no matching END line.",
                kind_vi=kind.vi,
                kind_en=kind.en,
            )
        )
    return [_decode_block(m, index, kind) for index, m in enumerate(matches, 1)]


def _decode_block(match: re.Match[bytes], index: int, kind: Kind) -> PemBlock:
    label = match.group(1).decode("ascii")
    try:
        der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            t(
                "Khối PEM thứ {index} ({label}) trong tệp {kind_vi} bị hỏng (base64 sai).",
                "PEM block {index} ({label}) in the {kind_en} file is damaged (bad base64).",
                index=index,
                label=label,
                kind_vi=kind.vi,
                kind_en=kind.en,
            )
        ) from None
    return PemBlock(label, der, index)


def headerless_base64(data: bytes) -> bytes | None:
    """The decoded bytes when the upload is bare base64 of a DER element (no PEM lines)."""
    if not _BASE64_TEXT.fullmatch(data):
        return None
    try:
        decoded = base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if decoded[:1] == bytes([_SEQUENCE]) else None


def der_framing(data: bytes) -> Framing:
    """Compare the length declared by the outer DER SEQUENCE with the bytes present."""
    if not data or data[0] != _SEQUENCE:
        return Framing.NOT_DER
    extent = der_extent(data)
    if extent is None:
        return Framing.UNKNOWN_LENGTH if data[1:2] == b"\x80" else Framing.TRUNCATED
    if extent > len(data):
        return Framing.TRUNCATED
    return Framing.TRAILING if extent < len(data) else Framing.COMPLETE


def der_extent(data: bytes) -> int | None:
    """Header plus content length of the first DER element, or None if the header is unusable."""
    if len(data) < 2:
        return None
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def framing_error(framing: Framing, kind: Kind) -> InvalidInput:
    """The message for a binary upload whose DER framing is wrong."""
    if framing is Framing.TRUNCATED:
        return InvalidInput(
            t(
                "Tệp {kind_vi} bị cắt cụt: dữ liệu ngắn hơn độ dài khai báo.",
                "The {kind_en} file is truncated: it is shorter than its declared length.",
                kind_vi=kind.vi,
                kind_en=kind.en,
            )
        )
    if framing is Framing.TRAILING:
        return InvalidInput(
            t(
                "Tệp {kind_vi} có dữ liệu thừa phía sau.",
                "The {kind_en} file has unexpected data after its end.",
                kind_vi=kind.vi,
                kind_en=kind.en,
            )
        )
    return unreadable(kind)


def unreadable(kind: Kind) -> InvalidInput:
    """The message for data that is none of the accepted formats."""
    return InvalidInput(
        t(
            "Không đọc được tệp {kind_vi}: nội dung không thuộc định dạng"
            " được chấp nhận ({formats}).",
            "Cannot read the {kind_en} file: it is not in an accepted format ({formats}).",
            kind_vi=kind.vi,
            kind_en=kind.en,
            formats=kind.formats,
        )
    )
