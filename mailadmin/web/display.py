"""How values look on the pages: Vietnamese names of tiers and statuses, Vietnamese dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext, lazy_gettext

from mailadmin.i18n import t
from mailadmin.web import services
from mailadmin.web.language import say

TIER_NAMES = {"province": lazy_gettext("Cấp tỉnh"), "district": lazy_gettext("Cấp huyện"),
              "commune": lazy_gettext("Cấp xã")}
STATUS_NAMES = {"active": lazy_gettext("Đang hoạt động"), "suspended": lazy_gettext("Đang tạm khóa"),
                "retired": lazy_gettext("Đã thôi sử dụng")}


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
               "name": lazy_gettext("Tên"), "parent": lazy_gettext("Đơn vị cha"), "unit": lazy_gettext("Đơn vị")}


def field_name(key: str) -> str:
    """An audit field in the page language (unknown fields as they are)."""
    return gettext(str(FIELD_NAMES[key])) if key in FIELD_NAMES else key


def shown_value(value: object) -> str:
    """A value of an audit entry as people read it: nothing is '—', lists are comma-separated."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


def megabytes(mib: int) -> str:
    """A quota as officers say it: 500 MB, 2 GB, 1,5 GB (the directory keeps MiB)."""
    if mib >= 1024:
        return f"{mib / 1024:.1f}".rstrip("0").rstrip(".").replace(".", ",") + " GB"
    return f"{mib} MB"


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
    app.add_template_filter(shown_value)
    app.context_processor(lambda: {"site_title": site_title()})
    app.context_processor(lambda: {"tier_names": {k: gettext(str(v)) for k, v in TIER_NAMES.items()},
                                   "status_names": {k: gettext(str(v)) for k, v in STATUS_NAMES.items()}})
