"""LDAP result codes turned into mailadmin's exceptions, with the server's own words kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
        return Conflict(t("Thư mục từ chối thay đổi {dn}: {detail}",
                          "the directory refused the change of {dn}: {detail}", dn=dn, detail=detail))
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
