"""Bytes of an uploaded file -> text: UTF-8 only, with a useful message for everything else.

Vietnamese offices still produce files in legacy encodings. They are told apart by how the
marks are written: Windows-1258 puts a combining tone byte after the vowel (e + 0xDE = ẽ),
VNI writes the mark as a second byte after an ASCII vowel ("Nguyeãn"), and TCVN3 (ABC)
replaces the whole vowel by one byte ("Tr\\xc7n"), so its marked words have no ASCII vowel.
"""

from __future__ import annotations

import codecs
import unicodedata

import ftfy
from ftfy.badness import is_bad

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

_ASCII_VOWELS = frozenset(b"aeiouyAEIOUY")
# Windows-1258's combining marks: grave, acute, tilde, hook above, dot below.
_CP1258_MARKS = frozenset((0xCC, 0xEC, 0xDE, 0xD2, 0xF2))
# Windows-1258's precomposed vowels that take a tone mark after them (â ê ô ă ơ ư, both cases).
_CP1258_VOWELS = frozenset((0xE2, 0xEA, 0xF4, 0xE3, 0xF5, 0xFD, 0xC2, 0xCA, 0xD4, 0xC3, 0xD5, 0xDD)) | _ASCII_VOWELS
# VNI's standalone letters (ì í ỉ ĩ ị ơ ư đ, both cases): they follow consonants in VNI too.
_VNI_STANDALONE = frozenset((0xEC, 0xED, 0xE6, 0xF3, 0xF2, 0xF4, 0xF6, 0xF1, 0xCC, 0xCD, 0xC6, 0xD3, 0xD2,
                             0xD4, 0xD6, 0xD1))
SAVE_AS_UTF8 = t("Hãy lưu lại tệp dạng \"CSV UTF-8\" (Excel: Lưu thành › CSV UTF-8) rồi nhập lại.",
                 "Save it again as \"CSV UTF-8\" (Excel: Save As › CSV UTF-8) and import it again.")


def decode(data: bytes) -> str:
    """UTF-8 text without BOM, NFC; any other encoding is refused, naming what it looks like."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
        raise _refused("UTF-16 (Excel: \"Unicode Text\")")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refused(guess_legacy(data)) from None
    return unicodedata.normalize("NFC", text.removeprefix("\ufeff"))


def _looks_utf16(data: bytes) -> bool:
    head = data[:200]
    return len(head) >= 4 and head.count(0) >= len(head) // 3


def _refused(looks_like: str) -> InvalidInput:
    return InvalidInput(t("Tệp không phải UTF-8; có vẻ là bảng mã {enc}. {vi}",
                          "the file is not UTF-8; it looks like {enc}. {en}",
                          enc=looks_like, vi=SAVE_AS_UTF8.render("vi"), en=SAVE_AS_UTF8.render("en")))


def guess_legacy(data: bytes) -> str:
    """The most likely legacy Vietnamese encoding of non-UTF-8 bytes (a heuristic)."""
    cp1258 = vni = tcvn3 = 0
    for word in data.split():
        high = [i for i, byte in enumerate(word) if byte >= 0x80]
        if not high:
            continue
        if any(i > 0 and word[i] in _CP1258_MARKS and word[i - 1] in _CP1258_VOWELS for i in high):
            cp1258 += 1
        elif any(i > 0 and word[i - 1] in _ASCII_VOWELS for i in high):
            vni += 1
        elif not any(byte in _ASCII_VOWELS for byte in word) and not all(word[i] in _VNI_STANDALONE for i in high):
            tcvn3 += 1
    return _verdict(cp1258, vni, tcvn3)


def _verdict(cp1258: int, vni: int, tcvn3: int) -> str:
    scores = {"Windows-1258": cp1258, "VNI": vni, "TCVN3 (ABC)": tcvn3}
    best = max(scores.values())
    if best == 0:
        return t("không rõ (8-bit)", "unknown 8-bit").render("en")
    return " / ".join(name for name, score in scores.items() if score == best)


def mojibake(text: str) -> str | None:
    """What a cell said before UTF-8 was read as Windows-1252 and saved again ('Nguyá»…n' -> 'Nguyễn'), or None.

    Both ftfy's tests must agree: the text looks bad and re-decoding it changes it. Either alone
    flags some legitimate text (curly quotes, rare letter pairs).
    """
    if not is_bad(text):
        return None
    fixed = ftfy.fix_encoding(text)
    return fixed if fixed != text else None


def mojibake_error(text: str, fixed: str) -> InvalidInput:
    """The row's (or the file's) refusal: what happened and how to export the file again."""
    return InvalidInput(t(
        "Chữ bị hỏng bảng mã: «{text}» có lẽ là «{fixed}». Tệp UTF-8 đã bị mở như Windows-1252 rồi lưu lại "
        "(thường do mở tệp CSV bằng Excel rồi lưu). Hãy xuất lại từ phần mềm nhân sự, hoặc mở bằng Excel qua "
        "Dữ liệu › Từ văn bản/CSV với mã 65001: Unicode (UTF-8). {vi}",
        "garbled text (mojibake): «{text}» was probably «{fixed}». The UTF-8 file was read as Windows-1252 "
        "and saved again (usually by opening the CSV in Excel and saving). Export it again from the HR "
        "software, or open it in Excel through Data › From Text/CSV with 65001: Unicode (UTF-8). {en}",
        text=_visible(text), fixed=fixed, vi=SAVE_AS_UTF8.render("vi"), en=SAVE_AS_UTF8.render("en")))


def _visible(text: str) -> str:
    """The garbled text as shown: its C1 control characters (bytes 0x81, 0x8D… of the UTF-8) as '�'."""
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in text)
