"""LDAP result codes turned into mailadmin's exceptions, with the server's own words kept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from mailadmin.errors import (
    AlreadyExists,
    Conflict,
    DirectoryError,
    DirectoryUnavailable,
    InvalidInput,
    MailadminError,
    NotFound,
    PermissionDenied,
)
from mailadmin.i18n import t

_SCHEMA_CODES = {17, 18, 21, 34, 64, 65, 67, 69}  # undefined attribute, syntax, naming, class rules
_AUTH_CODES = {48, 49, 50}
# The unique overlay's refusal names its search: "non-unique attributes found with (&(...)(|(employeeNumber=X)))".
NON_UNIQUE = "non-unique attributes found with "
_ASSERTION = re.compile(r"\(([A-Za-z][A-Za-z0-9-]*)=([^()]*)\)")
_ESCAPED = re.compile(r"\\([0-9A-Fa-f]{2})")
# What each unique attribute is to a person (slapd.conf.j2's unique_uri lines); objectClass is the scope, not a clash.
UNIQUE_LABELS = {"employeenumber": ("mã nhân sự", "HR id"), "uid": ("tên đăng nhập", "user name"),
                 "mail": ("địa chỉ", "address"), "maillocaladdress": ("địa chỉ", "address"),
                 "macertfingerprint": ("chứng thư số", "certificate")}
# The overlay's own search for clashes failed: slapd 2.5.13 answers so when a clashing entry cannot be read back
# (seen: a duplicate HR id pipelined with the first HR id the database ever stored; docs in the report).
UNIQUE_SEARCH_FAILED = "unique_search failed"


def error_for_result(result: Mapping[str, Any], dn: str) -> MailadminError:
    """The exception for a non-success LDAP result about `dn`."""
    code = int(result.get("result", 80))
    detail = (result.get("message") or result.get("description") or "").strip()
    if code == 32:
        return NotFound(t("Không có mục {dn} trong thư mục", "no entry {dn} in the directory", dn=dn))
    if code == 16:  # noSuchAttribute: the value to delete is gone (another writer came first)
        return Conflict(t("Giá trị không còn trên {dn}: {detail}", "the value is no longer on {dn}: {detail}",
                          dn=dn, detail=detail))
    if code == 20:
        return Conflict(t("Giá trị đã có trên {dn}: {detail}", "the value already exists on {dn}: {detail}",
                          dn=dn, detail=detail))
    if code == 68:
        return already_there(dn)
    if code == 19:
        return not_unique(dn, detail) or Conflict(t("Thư mục từ chối thay đổi {dn}: {detail}",
                                                    "the directory refused the change of {dn}: {detail}",
                                                    dn=dn, detail=detail))
    if code == 80 and detail == UNIQUE_SEARCH_FAILED:
        return unique_check_failed(dn)
    if code in _SCHEMA_CODES:
        return InvalidInput(t("Dữ liệu không hợp lệ cho {dn}: {detail}",
                              "invalid data for {dn}: {detail}", dn=dn, detail=detail))
    if code in _AUTH_CODES:
        return PermissionDenied(t("Thư mục không cho phép thao tác trên {dn}: {detail}",
                                  "the directory does not allow this on {dn}: {detail}",
                                  dn=dn, detail=detail or result.get("description", "")))
    if code == 4:
        return DirectoryError(t(
            "Thư mục cắt bớt kết quả (giới hạn số mục) khi tìm trong {dn}: kết quả không đầy đủ",
            "the directory truncated the result (size limit) searching {dn}: refusing a partial answer",
            dn=dn))
    if code in (51, 52):
        return DirectoryUnavailable(t("Thư mục đang bận hoặc không phục vụ: {detail}",
                                      "the directory is busy or unavailable: {detail}", detail=detail))
    return DirectoryError(t("Lỗi thư mục ({code} {name}) với {dn}: {detail}",
                            "directory error ({code} {name}) on {dn}: {detail}", code=code,
                            name=result.get("description", ""), dn=dn, detail=detail))


def already_there(dn: str) -> AlreadyExists:
    """The refusal of an add whose DN is taken."""
    return AlreadyExists(t("Mục {dn} đã có", "entry {dn} already exists", dn=dn))


def not_unique(dn: str, detail: str) -> Conflict | None:
    """The unique overlay's refusal as a Conflict naming what clashes (the HR id, the address), else None."""
    if not detail.startswith(NON_UNIQUE):
        return None
    clashes = [(UNIQUE_LABELS[name.lower()], _unescaped(value)) for name, value in _ASSERTION.findall(detail)
               if name.lower() in UNIQUE_LABELS]
    if not clashes:
        return None
    (vi, en), value = clashes[0]
    return Conflict(t("{what_vi} {value} đã thuộc về một mục khác trong thư mục ({dn} không được ghi)",
                      "the {what_en} {value} already belongs to another entry of the directory ({dn} not written)",
                      what_vi=vi.capitalize(), what_en=en, value=value, dn=dn))


def unique_check_failed(dn: str) -> Conflict:
    """The unique overlay could not read back an entry holding one of `dn`'s unique values: a clash it cannot show."""
    return Conflict(t("{dn} trùng mã nhân sự hoặc địa chỉ với một mục khác mà thư mục không đọc lại được "
                      "(slapd: unique_search failed): không ghi; hãy báo người vận hành kiểm tra thư mục",
                      "{dn} shares its HR id or an address with another entry the directory cannot read back "
                      "(slapd: unique_search failed): not written; ask the operator to check the directory", dn=dn))


def _unescaped(value: str) -> str:
    """A filter value as typed (RFC 4515 escapes \\XX undone, UTF-8)."""
    return unquote(_ESCAPED.sub(lambda match: f"%{match.group(1)}", value.replace("%", "%25")), errors="replace")
