"""A new unit given the code of a unit that ended in a reorganisation (round 5).

Old codes keep meaning something after a reorganisation: an HR file naming 22018 goes to 22015, the
page /units/22018 and `units history 22018` say what became of it. A unit created later with the same
code silently took all of that over: the HR rows of the old ward landed in the new unit and its history
disappeared from the pages (the directory accepts it: the history lies outside the tree). The unit form
now refuses an ended code, naming what became of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from mailadmin import create_app
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from tests.reorg.conftest import PLAN
from tests.reorg.test_unit_history import Reorganised, mailadmin, small_directory
from tests.web.conftest import PASSWORD, csrf_token, login


@pytest.fixture(scope="module")
def reorganised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reorganised]:
    running = small_directory(tmp_path_factory.mktemp("history-codes"))
    result = mailadmin(running, "reorg", "apply", str(PLAN), "--json")
    assert result.returncode == 0, result.stderr
    yield Reorganised(running, {}, json.loads(result.stdout)["job"])
    running.stop()


@pytest.fixture(scope="module")
def app(reorganised: Reorganised) -> Iterator[Flask]:
    flask_app = create_app({"TESTING": True}, settings=reorganised.directory.settings)
    yield flask_app
    flask_app.extensions["mailadmin"].close()


def test_a_former_units_code_is_not_given_to_a_new_unit(app: Flask, reorganised: Reorganised) -> None:
    services = reorganised.services
    services.units.forget()  # the reorganisation ran in another process
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Mã Cũ", unit_code="STC", password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    client = app.test_client()
    assert login(client, uid).status_code == 302
    answer = client.post("/units/22015/create", data={"csrf_token": csrf_token(client, "/units/22015"),
                                                      "code": "22018", "name": "Tổ dân phố mới", "kind": "agency"})
    services.units.forget()  # the web app has its own services
    assert "22018" not in services.units.index().units
    assert answer.status_code == 302 and "đã kết thúc" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Phường Tuy Hòa (22015)" in client.get("/units/22018").get_data(as_text=True)  # still says where it went


def test_units_history_of_a_unit_that_took_others_over(reorganised: Reorganised) -> None:
    one = mailadmin(reorganised.directory, "units", "history", "22015")
    assert "unexpected" not in (one.stdout + one.stderr).lower(), one.stdout + one.stderr
    assert one.returncode == 0 and "is current; it took over 22018, 22021, 22024" in one.stdout, one.stdout
    assert "đã tiếp nhận" in one.stdout
    shown = json.loads(mailadmin(reorganised.directory, "units", "history", "22015", "--json").stdout)
    assert [row["code"] for row in shown] == ["22018", "22021", "22024"]
