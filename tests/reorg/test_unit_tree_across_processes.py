"""The web process's unit tree follows changes other processes make (`units sync`, `reorg apply`) at the next
request, without waiting for a cache to expire, and is not read again while the units stay as they are.

One small province per module, read in file order (reorganised, then a unit added below the new province): the web
app reads the tree, then the CLI changes it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin import create_app
from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from tests.conftest import RunningDirectory, child_environ, eventually, make_settings
from tests.reorg.conftest import HERE, PLAN, seed
from tests.web.conftest import PASSWORD, csrf_token, login

NEW_COMMUNE = """units:
  - code: "66"
    name: "Tỉnh Đắk Lắk"
    kind: province
    children:
      - code: "22099"
        name: "Phường Mới Lập"
        kind: commune
"""


@dataclass
class Web:
    directory: RunningDirectory
    client: FlaskClient
    app: Flask


def mailadmin(running: RunningDirectory, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=child_environ(running, lang="en"), timeout=180, check=False)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """A super admin (of STC, which every change keeps) logged in to a web app that has read the tree."""
    state = tmp_path_factory.mktemp("unit-tree-across")
    running = RunningDirectory(make_settings(state / "state",
                                             MAILADMIN_ORGANISATION_UNITS_FILE=str(HERE / "units-small.yaml")))
    seed(running.services)
    services = running.services
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Cây", unit_code="STC", password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    app = create_app({"TESTING": True}, settings=running.settings)
    client = app.test_client()
    assert login(client, uid).status_code == 302
    try:
        yield Web(running, client, app)
    finally:
        app.extensions["mailadmin"].close()
        running.stop()


def picker(client: FlaskClient) -> set[str]:
    """The unit codes the new-mailbox form offers."""
    page = client.get("/mailboxes/new").get_data(as_text=True)
    form = page[page.index('name="unit"'):]
    return set(re.findall(r'<option value="([^"]+)"', form[:form.index("</select>")]))


def test_the_tree_is_kept_while_only_mailboxes_change(web: Web) -> None:
    """A mailbox written by another process leaves the unit entries as they were: the tree read stays."""
    units = web.app.extensions["mailadmin"].units
    before = units.index()
    result = mailadmin(web.directory, "mailbox", "add", "Lê Văn Khác", "--unit", "STC")
    assert result.returncode == 0, result.stderr
    assert units.index() is before


def test_a_unit_a_reorganisation_merged_away_is_refused_naming_its_successor(web: Web) -> None:
    offered = picker(web.client)
    assert "22018" in offered and "CHOXEP" not in offered  # the tree before the reorganisation
    result = mailadmin(web.directory, "reorg", "apply", str(PLAN), "--json")
    assert result.returncode == 0, result.stderr
    offered = picker(web.client)
    assert {"CHOXEP", "66", "22080"} <= offered and not {"22018", "557", "54"} & offered
    answer = web.client.post("/mailboxes/new", data={
        "csrf_token": csrf_token(web.client, "/mailboxes/new"), "submission": "unit-tree-1",
        "full_name": "Phạm Thị Mới", "unit": "22018"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400, text
    assert "22018" in text and "Phường Tuy Hòa (22015)" in text


def test_a_unit_the_cli_adds_is_offered_at_the_next_request(web: Web, tmp_path: Path) -> None:
    assert "22099" not in picker(web.client)  # the web process has read the tree
    units = tmp_path / "units.yaml"
    units.write_text(NEW_COMMUNE, encoding="utf-8")
    result = mailadmin(web.directory, "units", "sync", str(units))
    assert result.returncode == 0, result.stderr
    assert "22099" in picker(web.client)


def test_a_unit_another_host_renames_and_moves_shows_so(web: Web) -> None:
    """Another web host (its own services and connections) renames the unit, then moves it (a modrdn): this
    host's pages follow. Polled: requests closer than units.CHECK_SECONDS to the last one share its check."""
    other = web.directory.services
    other.units.rename("22099", "Phường Mới Đổi Tên")
    eventually(lambda: _shows(web.client, "/units/22099", "Phường Mới Đổi Tên"))
    other.unit_admin.move("22099", "CHOXEP")
    eventually(lambda: _shows(web.client, "/units/22099", "/units/CHOXEP"))
    assert "Phường Mới Đổi Tên (22099)" in web.client.get("/mailboxes/new").get_data(as_text=True)


def _shows(client: FlaskClient, path: str, text: str) -> None:
    assert text in client.get(path).get_data(as_text=True)
