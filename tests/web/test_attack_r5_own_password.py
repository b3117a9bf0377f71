"""An administrator pressing "Đặt lại mật khẩu" on their own mailbox page (round 5).

The reset moves the session epoch before the next page: the one-time page that should show the new
password sends the person to the login page instead, and the password they know no longer works.
They are locked out of their own account (the last super admin too) by one careless click, and a
session left open can do it to its owner. Changing one's own password is /password (the current one
is asked); the reset is for other people's mailboxes.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from mailadmin.model import Role, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_second_factor_http import enrol


@pytest.mark.parametrize("role", [Role.UNITADMIN, Role.SUPERADMIN])
def test_resetting_ones_own_password_is_refused_not_a_lockout(app: Flask, person: Callable[..., str], unit: Unit,
                                                              services: Services, role: Role) -> None:
    uid = person(f"Khổng Văn Tự Đặt Lại {role.value}", unit, role, (unit,) if role is Role.UNITADMIN else ())
    client = app.test_client()
    assert login(client, uid).status_code == 302
    answer = client.post(f"/mailboxes/{uid}/password",
                         data={"csrf_token": csrf_token(client, f"/mailboxes/{uid}"), "submission": "tu-dat-lai"})
    assert answer.status_code == 403
    assert login(app.test_client(), uid).status_code == 302  # the password they know still works


def test_ones_own_page_offers_neither_reset_but_the_password_change(app: Flask, person: Callable[..., str],
                                                                    unit: Unit, services: Services) -> None:
    """A super admin with a second factor on their own mailbox page: both resets would be refused (403), so
    neither button is there; the link to /password is. Another super admin's view of the page has both."""
    uid = person("Khổng Thị Tự Xem", unit, Role.SUPERADMIN)
    client = app.test_client()
    assert login(client, uid).status_code == 302
    enrol(client)
    assert services.roles.holder(uid).second_factor
    own = client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="reset-password"' not in own and 'id="reset-second-factor"' not in own
    assert 'id="change-own-password"' in own and 'href="/password"' in own
    other = app.test_client()
    assert login(other, person("Khổng Văn Người Khác", unit, Role.SUPERADMIN)).status_code == 302
    theirs = other.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="reset-password"' in theirs and 'id="reset-second-factor"' in theirs
    assert 'id="change-own-password"' not in theirs
