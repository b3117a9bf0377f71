"""The locked owner is told when to try again: the END of the lock in Vietnam's time (issue #12: the message gave
the lock's start, worded as the retry time, in UTC)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from mailadmin.model import Unit
from mailadmin.services.mailboxes import generalized_time
from mailadmin.wiring import Services
from tests.web.conftest import PASSWORD, login

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_lock_message_gives_the_end_of_the_lock_in_vietnams_time(app: Flask, person: Callable[..., str],
                                                                     unit: Unit, services: Services) -> None:
    uid = person("Khúc Văn Bị Khóa", unit)
    dn = services.mailboxes.store.find_entry(uid).dn
    for _ in range(services.settings.passwords.max_failures):  # wrong passwords from a mail program
        services.client.check_password(dn, "sai-mat-khau")
    locked_at = generalized_time(services.mailboxes.store.lock_state(dn)[0])
    assert locked_at is not None
    end = locked_at + timedelta(seconds=services.settings.passwords.lockout_seconds)
    page = login(app.test_client(), uid, PASSWORD).get_data(as_text=True)
    shown = end.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")
    assert f"thử lại sau {shown} (giờ Việt Nam)" in page
    assert locked_at.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") not in page  # not the start of the lock
    assert locked_at.strftime("%H:%M") not in page  # nor any time in UTC
