"""How values look on the pages: Vietnamese names of codes (tiers, statuses, roles, unit kinds, key usages), dates."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import LazyString, get_locale, gettext, lazy_gettext, lazy_pgettext

from mailadmin.i18n import t
from mailadmin.services.mailstore import QuotaUse, UsageState
from mailadmin.sizes import megabytes, storage_size, vnnumber
from mailadmin.web import services
from mailadmin.web.language import say

TIER_NAMES = {"province": lazy_gettext("Cấp tỉnh"), "district": lazy_gettext("Cấp huyện"),
              "commune": lazy_gettext("Cấp xã")}
STATUS_NAMES = {"active": lazy_gettext("Đang hoạt động"), "suspended": lazy_gettext("Đang tạm khóa"),
                "retired": lazy_gettext("Đã thôi sử dụng")}
ROLE_NAMES = {"superadmin": lazy_pgettext("vai trò", "Quản trị tỉnh"),
              "unitadmin": lazy_pgettext("vai trò", "Quản trị đơn vị"),
              "hr": lazy_pgettext("vai trò", "Nhân sự"), "auditor": lazy_pgettext("vai trò", "Kiểm tra")}
KIND_NAMES = {"province": lazy_gettext("Tỉnh"), "agency": lazy_gettext("Cơ quan cấp tỉnh"),
              "district": lazy_gettext("Đơn vị cấp huyện"), "commune": lazy_gettext("Đơn vị cấp xã"),
              "ward": lazy_gettext("Phường"), "special_zone": lazy_gettext("Đặc khu")}
KEY_USAGE_NAMES = {"digitalSignature": lazy_gettext("Ký số"), "nonRepudiation": lazy_gettext("Chống chối bỏ"),
                   "contentCommitment": lazy_gettext("Chống chối bỏ"),
                   "keyEncipherment": lazy_gettext("Mã hóa khóa"), "dataEncipherment": lazy_gettext("Mã hóa dữ liệu"),
                   "keyAgreement": lazy_gettext("Thỏa thuận khóa"), "keyCertSign": lazy_gettext("Ký chứng thư"),
                   "cRLSign": lazy_gettext("Ký danh sách thu hồi"), "encipherOnly": lazy_gettext("Chỉ mã hóa"),
                   "decipherOnly": lazy_gettext("Chỉ giải mã")}
JOB_STATE_NAMES = {"planned": lazy_gettext("Chờ xác nhận"), "applying": lazy_gettext("Đang thực hiện"),
                   "done": lazy_gettext("Đã xong"), "undoing": lazy_gettext("Đang hoàn tác"),
                   "undone": lazy_gettext("Đã hoàn tác")}
CERTIFICATE_STATUS_NAMES = {"valid": lazy_gettext("Còn hiệu lực"), "expiring": lazy_gettext("Sắp hết hạn"),
                            "expired": lazy_gettext("Đã hết hạn"), "not_yet_valid": lazy_gettext("Chưa có hiệu lực"),
                            "revoked": lazy_gettext("Đã bị thu hồi")}


def _logged(text: str) -> LazyString:
    """A name in the audit log's context (the same words elsewhere are buttons: Tạo hộp thư = New mailbox)."""
    return lazy_pgettext("nhật ký", text)


# Audit actions as officers say them; the code stays in the filter's values and the CSV export.
ACTION_NAMES = {
    "mailbox.create": _logged("Tạo hộp thư"),
    "mailbox.create_many": _logged("Tạo nhiều hộp thư"),
    "mailbox.update": _logged("Sửa hộp thư"),
    "mailbox.move": _logged("Chuyển đơn vị"),
    "mailbox.retire": _logged("Thôi sử dụng hộp thư"),
    "mailbox.retired": _logged("Thôi sử dụng hộp thư"),
    "mailbox.suspended": _logged("Tạm khóa hộp thư"),
    "mailbox.resume": _logged("Kích hoạt lại hộp thư"),
    "mailbox.unlock": _logged("Mở khóa đăng nhập"),
    "mailbox.password_reset": _logged("Đặt lại mật khẩu"),
    "mailbox.password_change": _logged("Tự đổi mật khẩu"),
    "mailbox.export": _logged("Xuất danh sách"),
    "mailbox.handover": _logged("In phiếu bàn giao"),
    "unit.create": _logged("Tạo đơn vị"),
    "unit.rename": _logged("Đổi tên đơn vị"),
    "unit.move": _logged("Chuyển đơn vị cha"),
    "unit.appoint_admin": _logged("Giao quản trị đơn vị"),
    "list.create": _logged("Tạo nhóm thư"),
    "list.add_member": _logged("Thêm thành viên nhóm thư"),
    "list.remove_member": _logged("Bớt thành viên nhóm thư"),
    "certificate.bind": _logged("Gắn chứng thư số"),
    "certificate.bind_folder": _logged("Gắn chứng thư theo thư mục"),
    "certificate.unbind": _logged("Gỡ chứng thư số"),
    "mailbox.bulk": _logged("Thao tác hàng loạt"),
    "mailbox.bulk_undo": _logged("Hoàn tác thao tác hàng loạt"),
    "import.apply": _logged("Nhập từ tệp"),
    "import.undo": _logged("Hoàn tác lần nhập"),
    "import.prune": _logged("Dọn lần nhập cũ"),
    "bulk.prune": _logged("Dọn thao tác hàng loạt cũ"),
    "import.results": _logged("Tải tệp kết quả nhập"),
    "import.handover": _logged("In phiếu bàn giao"),
    "second_factor.enrol": _logged("Bật xác thực hai lớp"),
    "second_factor.disable": _logged("Tắt xác thực hai lớp"),
    "second_factor.reset": _logged("Xóa xác thực hai lớp"),
    "second_factor.recovery_used": _logged("Dùng mã khôi phục"),
    "second_factor.recovery_regenerate": _logged("Tạo mã khôi phục mới"),
    "api.token_issue": _logged("Cấp mã truy cập API"),
    "api.token_revoke": _logged("Thu hồi mã truy cập API"),
    "role.grant": _logged("Giao vai trò"),
    "role.revoke": _logged("Thu hồi vai trò"),
    "mail.welcome": _logged("Gửi thư chào mừng"),
    "mail.cert-expiry": _logged("Nhắc chứng thư sắp hết hạn"),
    "mail.reminder": _logged("Nhắc đổi mật khẩu ban đầu"),
    "login.certificate": _logged("Đăng nhập bằng chứng thư số"),
    "demo.delete": _logged("Xóa dữ liệu mẫu"),
}
DATE_FIELDS = {"retain_until", "not_before", "not_after"}  # shown as 01/12/2027, times in Vietnam's zone
# Second factors and sign-ins in the audit log (second_factor.*, login.certificate).
FACTOR_NAMES = {"method": {"totp": lazy_gettext("Mã một lần (TOTP)")},
                "outcome": {"ok": lazy_gettext("Thành công"), "refused": lazy_gettext("Bị từ chối")},
                "step": {"second_factor": lazy_gettext("Bước thứ hai sau mật khẩu"),
                         "certificate_only": lazy_gettext("Chỉ bằng chứng thư số")}}
# Audit values shown by name, per field.
VALUE_NAMES = {"status": {**STATUS_NAMES, **CERTIFICATE_STATUS_NAMES},
               "tier": TIER_NAMES, "kind": KIND_NAMES, "key_usage": KEY_USAGE_NAMES,
               "roles": ROLE_NAMES, "state": JOB_STATE_NAMES, **FACTOR_NAMES}


def code_name(code: str, names: dict[str, object]) -> str:
    """A code by its name in the page language (unknown codes as they are)."""
    return str(names[code]) if code in names else code


def role_names(roles: Iterable[object]) -> str:
    """Roles (values or enum members) as officers say them: Quản trị tỉnh, Kiểm tra."""
    return ", ".join(code_name(str(getattr(role, "value", role)), ROLE_NAMES) for role in roles) or "—"


def key_usage_names(usages: Iterable[str]) -> str:
    """Key usages of a certificate in the page language."""
    return ", ".join(code_name(usage, KEY_USAGE_NAMES) for usage in usages)


def kind_name(kind: object) -> str:
    """A unit kind (value or enum member) in the page language."""
    return code_name(str(getattr(kind, "value", kind)), KIND_NAMES)


def action_name(action: str) -> str:
    """An audit action in the page language (a code no page knows yet as it is)."""
    return code_name(action, ACTION_NAMES)


def job_state_name(state: str) -> str:
    """An import job's state in the page language."""
    return code_name(state, JOB_STATE_NAMES)


# A unit list's description is stored in both languages (ListService.create_unit_list).
UNIT_LIST_DESCRIPTION = re.compile(r"(Toàn bộ cán bộ .+) / (all staff of .+)")


def list_description(text: str) -> str:
    """A list's description; a unit list's stored 'Vietnamese / English' text in the page language only."""
    match = UNIT_LIST_DESCRIPTION.fullmatch(text or "")
    if not match:
        return text
    return match.group(2).capitalize() if str(get_locale() or "vi")[:2] == "en" else match.group(1)


# Officers work in Vietnam's time; the directory and the audit log keep UTC.
LOCAL_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def vndate(value: date | datetime | str | None) -> str:
    """Vietnamese date format: 29/11/2026; a time is shown in Vietnam's zone: 21:05 29/11/2026 (GMT+7)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # naive times are ours: UTC
        return moment.astimezone(LOCAL_ZONE).strftime("%H:%M %d/%m/%Y (GMT+7)")
    return value.strftime("%d/%m/%Y")


# Field names of audit entries (before → after) as officers read them.
FIELD_NAMES = {"full_name": lazy_gettext("Họ tên"), "title": lazy_gettext("Chức danh"),
               "phone": lazy_gettext("Điện thoại"), "unit_code": lazy_gettext("Đơn vị"),
               "tier": lazy_gettext("Cấp"), "status": lazy_gettext("Trạng thái"),
               "aliases": lazy_gettext("Bí danh"), "hr_id": lazy_gettext("Mã nhân sự"),
               "quota_mib": lazy_gettext("Hạn mức (MB)"), "retain_until": lazy_gettext("Giữ đến"),
               "mail": lazy_gettext("Địa chỉ"), "uid": lazy_gettext("Tên đăng nhập"),
               "certificates": lazy_gettext("Chứng thư số"), "import": lazy_gettext("Lần nhập"),
               "name": lazy_gettext("Tên"), "parent": lazy_gettext("Đơn vị cha"), "unit": lazy_gettext("Đơn vị"),
               "code": lazy_gettext("Mã"), "kind": lazy_gettext("Loại"), "members": lazy_gettext("Số thành viên"),
               "subject": lazy_gettext("Chủ thể"), "issuer": lazy_gettext("Tổ chức cấp"),
               "serial": lazy_gettext("Số hiệu"), "fingerprint_sha256": lazy_gettext("Dấu vân tay SHA-256"),
               "fingerprint": lazy_gettext("Dấu vân tay SHA-256"),
               "not_before": lazy_gettext("Hiệu lực từ"), "not_after": lazy_gettext("Hiệu lực đến"),
               "key_usage": lazy_gettext("Công dụng khóa"), "emails": lazy_gettext("Thư điện tử"),
               "file": lazy_gettext("Tệp"), "create": lazy_gettext("Tạo mới"), "update": lazy_gettext("Cập nhật"),
               "move": lazy_gettext("Chuyển đơn vị"), "retire": lazy_gettext("Thôi sử dụng"),
               "unchanged": lazy_gettext("Không đổi"), "error": lazy_gettext("Lỗi"),
               "failed": lazy_gettext("Thất bại"), "pending": lazy_gettext("Đang chờ"),
               "created": lazy_gettext("Đã tạo"), "refused": lazy_gettext("Bị từ chối"),
               "generated": lazy_gettext("Mật khẩu sinh tự động"), "by": lazy_gettext("Người thực hiện"),
               "to": lazy_gettext("Gửi đến"), "bound": lazy_gettext("Đã gắn"), "undone": lazy_gettext("Đã hoàn tác"),
               "expiring": lazy_gettext("Sắp hết hạn"), "roles": lazy_gettext("Vai trò"),
               "scopes": lazy_gettext("Phạm vi"), "method": lazy_gettext("Cách xác thực"),
               "recovery_codes": lazy_gettext("Số mã khôi phục"),
               "recovery_codes_left": lazy_gettext("Mã khôi phục còn lại"), "outcome": lazy_gettext("Kết quả"),
               "step": lazy_gettext("Bước đăng nhập"), "reason": lazy_gettext("Lý do"),
               "job": lazy_gettext("Công việc"), "undo": lazy_gettext("Hoàn tác")}


def field_name(key: str) -> str:
    """An audit field in the page language (unknown fields as they are)."""
    return gettext(str(FIELD_NAMES[key])) if key in FIELD_NAMES else key


def shown_value(value: object, key: str = "") -> str:
    """A value of an audit entry as people read it: nothing is '—', lists are comma-separated, codes by name."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("có") if value else gettext("không")
    if isinstance(value, list | tuple):
        return ", ".join(shown_value(item, key) for item in value)
    if key in DATE_FIELDS:
        return vndate(_day_or_moment(str(value)))
    return code_name(str(value), VALUE_NAMES.get(key, {}))


def _day_or_moment(text: str) -> date | str:
    """A YYYY-MM-DD day as a date (no time shown); anything else as it is, for vndate."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else text
    except ValueError:
        return text


def quota(mib: int) -> str:
    """A mailbox's quota; none stored (mailboxes imported before the one write path) is the default Dovecot applies."""
    if mib:
        return megabytes(mib)
    return gettext("%(size)s (mặc định)", size=megabytes(services().settings.mailboxes.default_quota_mib))


def quota_use(use: QuotaUse) -> str:
    """Usage as the mail store reports it: "0,4 MB trên 2 GB (0,02 %)", or why it is not known."""
    if use.state is UsageState.OFF:
        return gettext("máy chủ thư không báo dung lượng đã dùng")
    if use.state is UsageState.UNAVAILABLE:
        return gettext("tạm thời không lấy được từ máy chủ thư")
    if use.limit_bytes is None or use.percent is None:
        return gettext("%(used)s (không giới hạn)", used=storage_size(use.used_bytes))
    share = vnnumber(use.percent, 1 if use.percent < 10 else 0)
    return gettext("%(used)s trên %(limit)s (%(percent)s %%)", used=storage_size(use.used_bytes),
                   limit=storage_size(use.limit_bytes), percent=share)


def site_title() -> str:
    """The heading of every page: the configured organisation's official mail, in the page language."""
    organisation = services().settings.organisation
    return say(t("Thư điện tử công vụ {name}", "{name_en} official mail", name=organisation.name,
                 name_en=organisation.name_en))


def init_app(app: Flask) -> None:
    """Template filters and names."""
    app.add_template_filter(vndate)
    app.add_template_filter(field_name)
    app.add_template_filter(megabytes)
    app.add_template_filter(quota_use)
    app.add_template_filter(quota)
    app.add_template_filter(shown_value)
    for named in (role_names, key_usage_names, kind_name, job_state_name, list_description, action_name):
        app.add_template_filter(named)
    app.context_processor(lambda: {"site_title": site_title()})
    app.context_processor(lambda: {"tier_names": {k: gettext(str(v)) for k, v in TIER_NAMES.items()},
                                   "status_names": {k: gettext(str(v)) for k, v in STATUS_NAMES.items()},
                                   "job_state_names": {k: gettext(str(v)) for k, v in JOB_STATE_NAMES.items()}})
