"""How values look on the pages: Vietnamese names of tiers and statuses, Vietnamese dates."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import gettext, lazy_gettext

from mailadmin.i18n import t
from mailadmin.web import services
from mailadmin.web.language import say

TIER_NAMES = {"province": lazy_gettext("Cấp tỉnh"), "district": lazy_gettext("Cấp huyện"),
              "commune": lazy_gettext("Cấp xã")}
STATUS_NAMES = {"active": lazy_gettext("Đang hoạt động"), "suspended": lazy_gettext("Đang tạm khóa"),
                "retired": lazy_gettext("Đã thôi sử dụng")}


def vndate(value: date | datetime | str | None) -> str:
    """Vietnamese date format: 29/11/2026 (with 14:05 for times)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%H:%M %d/%m/%Y")
    return value.strftime("%d/%m/%Y")


def site_title() -> str:
    """The heading of every page: the configured organisation's official mail, in the page language."""
    organisation = services().settings.organisation
    return say(t("Thư điện tử công vụ {name}", "{name_en} official mail", name=organisation.name,
                 name_en=organisation.name_en))


def init_app(app: Flask) -> None:
    """Template filters and names."""
    app.add_template_filter(vndate)
    app.context_processor(lambda: {"site_title": site_title()})
    app.context_processor(lambda: {"tier_names": {k: gettext(str(v)) for k, v in TIER_NAMES.items()},
                                   "status_names": {k: gettext(str(v)) for k, v in STATUS_NAMES.items()}})
