"""Dates in messages: day/month/year for Vietnamese, ISO for English, both in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def when(moment: datetime) -> dict[str, str]:
    """`date_vi` and `date_en` parameters for a bilingual message."""
    moment = moment.astimezone(UTC)
    return {
        "date_vi": moment.strftime("%d/%m/%Y %H:%M UTC"),
        "date_en": moment.strftime("%Y-%m-%d %H:%M UTC"),
    }
