"""How values look on the pages: Vietnamese names of tiers and statuses, Vietnamese dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext, lazy_gettext

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
            return value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)  # naive times are ours: UTC
        return moment.astimezone(LOCAL_ZONE).strftime("%H:%M %d/%m/%Y (GMT+7)")
    return value.strftime("%d/%m/%Y")


def init_app(app: Flask) -> None:
    """Template filters and names."""
    app.add_template_filter(vndate)
    app.context_processor(lambda: {"tier_names": {k: gettext(str(v)) for k, v in TIER_NAMES.items()},
                                   "status_names": {k: gettext(str(v)) for k, v in STATUS_NAMES.items()}})
