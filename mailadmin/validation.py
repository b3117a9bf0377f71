"""Field rules shared by forms, files and the CLI: one place says what a valid value is."""

from __future__ import annotations

import re
import unicodedata

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t
from mailadmin.names import normalize

LOCAL_PART = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$")
UNIT_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
PHONE = re.compile(r"^\+?[0-9 ().-]{6,20}$")
LIMITS = {"full_name": 128, "title": 128, "phone": 20, "hr_id": 32}
FIELD_LABELS = {
    "full_name": ("họ tên", "full name"), "title": ("chức danh", "title"),
    "phone": ("điện thoại", "phone"), "hr_id": ("mã nhân sự", "HR id"),
    "mail": ("địa chỉ thư", "mail address"), "unit": ("đơn vị", "unit"),
    "password": ("mật khẩu", "password"), "aliases": ("bí danh", "aliases"),
    "quota": ("dung lượng", "quota"),
}


def label(field: str) -> tuple[str, str]:
    """Vietnamese and English name of a field, for messages."""
    return FIELD_LABELS.get(field, (field, field))


def clean_text(value: str, field: str, *, required: bool = False) -> str:
    """NFC, trimmed, no control characters, within the field's length limit."""
    text = normalize(value or "")
    vi, en = label(field)
    # isprintable() is False for every Cc, Cf, Cs and Co character: the per-character look only when it is.
    if not text.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in text):
        raise InvalidInput(t("Trường {vi} chứa ký tự điều khiển", "the {en} contains control characters",
                             vi=vi, en=en), field)
    if required and not text:
        raise InvalidInput(t("Thiếu {vi}", "the {en} is missing", vi=vi, en=en), field)
    limit = LIMITS.get(field)
    if limit and len(text) > limit:
        raise InvalidInput(t("Trường {vi} dài quá {limit} ký tự", "the {en} is longer than {limit} characters",
                             vi=vi, en=en, limit=limit), field)
    return text


def clean_phone(value: str) -> str:
    """A telephone number: digits, spaces, + ( ) . - only."""
    text = clean_text(value, "phone")
    if text and not PHONE.match(text):
        raise InvalidInput(t("Số điện thoại không hợp lệ: {v}", "invalid phone number: {v}", v=text), "phone")
    return text


def clean_local_part(value: str, field: str = "mail") -> str:
    """A local part we are willing to create: lower-case a-z, 0-9, . _ - inside."""
    local = (value or "").strip().lower()
    if not LOCAL_PART.match(local) or ".." in local:
        raise InvalidInput(t(
            "Phần trước @ không hợp lệ: {v} (chỉ dùng a-z, 0-9, dấu . _ - ở giữa, tối đa 64 ký tự)",
            "invalid local part {v} (use a-z, 0-9 and . _ - inside, at most 64 characters)",
            v=value), field)
    return local


def clean_address(value: str, domain: str, field: str = "mail") -> str:
    """A full address in our domain, or a bare local part to which the domain is added."""
    text = (value or "").strip().lower()
    local, at, address_domain = text.partition("@")
    if at and ("@" in address_domain or not local):
        raise InvalidInput(t("Địa chỉ {v} sai dạng: cần một tên, một @ và tên miền (ví dụ annv@{domain})",
                             "address {v} is malformed: a name, one @ and the domain are needed (e.g. annv@{domain})",
                             v=value, domain=domain), field)
    if at and address_domain != domain.lower():
        raise InvalidInput(t("Địa chỉ {v} không thuộc miền {domain}",
                             "address {v} is not in the domain {domain}", v=value, domain=domain), field)
    return f"{clean_local_part(local, field)}@{domain.lower()}"


def clean_unit_code(value: str) -> str:
    """A unit code: letters, digits, _ and -, at most 32 characters."""
    code = (value or "").strip()
    if not UNIT_CODE.match(code):
        raise InvalidInput(t("Mã đơn vị không hợp lệ: {v}", "invalid unit code: {v}", v=value), "unit")
    return code


# Beyond letters and combining marks, a person's name holds only these (’ and ʼ as in H’Hen Niê).
NAME_PUNCTUATION = frozenset(" -\u2010'\u2019\u02bc.")


def clean_person_name(value: str, field: str = "full_name") -> str:
    """A person's name: letters of any script with their marks, spaces, hyphens, apostrophes and dots."""
    text = clean_text(value, field, required=True)
    wrong = next((ch for ch in text if not _name_char(ch)), None)
    if wrong is not None:
        raise InvalidInput(t(
            "Họ tên chứa ký tự {c} không có trong tên người (chỉ dùng chữ cái, khoảng trắng, dấu gạch nối, "
            "dấu nháy đơn và dấu chấm)",
            "the name contains {c}, which a person's name does not hold (use letters, spaces, hyphens, "
            "apostrophes and dots)", c=_shown(wrong)), field)
    if not unicodedata.category(text[0]).startswith("L"):
        raise InvalidInput(t("Họ tên phải bắt đầu bằng chữ cái: {v}", "the name must begin with a letter: {v}",
                             v=text), field)
    return text


def _name_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM" or char in NAME_PUNCTUATION


def _shown(char: str) -> str:
    """'«*» (U+002A)': the character and its code point (some look like others or like nothing)."""
    return f"«{char}» (U+{ord(char):04X})"
