"""Issue 13's acceptance: the shipped plan on the 6,888-mailbox demo loses nothing, keeps old addresses
delivering (real postmap, our smtpd) and `reorg undo` gives back the exact previous directory.

One demo per module (seeding and applying take ~20 s): the tests below read the reorganised
directory in file order and the last one undoes it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mailadmin.mailserver.generate import generate
from mailadmin.model import Mailbox, UnitKind
from mailadmin.resources import project_path
from mailadmin.services.demo import demo_admin_password, seed_demo
from mailadmin.smtp.config import mail_routing, smtp_config
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, eventually, make_settings
from tests.mailserver.servers import POSTMAP, shared_folder
from tests.reorg.conftest import dump
from tests.smtp.conftest import message, start_smtpd

pytestmark = pytest.mark.slow
SHIPPED = project_path("config", "reorg", "2025-phuyen-daklak.yaml")
DISTRICTS = {"555", "557", "558", "559", "560", "561", "562", "563", "564"}


@dataclass
class Reorganised:
    """The demo before and after the shipped plan."""

    directory: RunningDirectory
    before: dict[str, Mailbox]
    dump_before: dict[str, Any]
    job: str

    @property
    def services(self) -> Services:
        return self.directory.services


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reorganised]:
    running = RunningDirectory(make_settings(tmp_path_factory.mktemp("reorg-demo") / "state"))
    services = running.services
    seed_demo(services, demo_admin_password(running.settings))
    before = {m.uid: m for m in services.mailboxes.store.search()}
    dump_before = dump(services)
    result = services.reorg.apply(services.reorg.start(services.reorg.preview(SHIPPED.read_bytes(), SHIPPED.name)))
    assert result["failed_count"] == 0
    services.units.forget()
    yield Reorganised(running, before, dump_before, result["job"])
    running.stop()


def test_nothing_is_lost(demo: Reorganised) -> None:
    units = demo.services.units.index().units
    after = {m.uid: m for m in demo.services.mailboxes.store.search()}
    assert len(after) == len(demo.before) == 6888
    assert all(m.unit_code in units for m in after.values())
    assert not [u for u in units.values() if u.kind is UnitKind.DISTRICT or u.code in DISTRICTS]
    local = [u for u in units.values() if u.kind in (UnitKind.COMMUNE, UnitKind.WARD, UnitKind.SPECIAL_ZONE)]
    assert len(local) == 34 and all(u.path[:-1] == ("66",) for u in local)
    assert sorted(code for u in local for code in u.predecessors) == sorted(
        code for code in _old_communes(demo.dump_before))
    assert all(m.mail == demo.before[uid].mail.replace("@phuyen.gov.vn", "@daklak.gov.vn") for uid, m in after.items())
    assert all(demo.before[uid].mail in m.aliases for uid, m in after.items())


def _old_communes(entries: dict[str, Any]) -> list[str]:
    return [attributes["ou"][0].decode() for attributes in entries.values()
            if attributes.get("maunitkind") == [b"commune"]]


def test_units_that_end_are_kept_as_history(demo: Reorganised) -> None:
    index = demo.services.units.index()
    old = {attributes["ou"][0].decode() for attributes in demo.dump_before.values() if "maunitkind" in attributes}
    assert set(index.former) >= DISTRICTS and not set(index.former) & set(index.units)
    assert all(index.former[code].successor == "CHOXEP" for code in DISTRICTS)
    assert all(unit.successor in index.units and unit.valid_to == datetime.date(2025, 6, 30)
               for unit in index.former.values())
    carried_on = {code for unit in index.units.values() for code in unit.predecessors}
    assert old == set(index.former) | (carried_on & old)  # every old code is history or lives on in a unit
    assert all(index.successors(code) for code in old - set(index.units))


def test_stats_json_shows_the_new_structure(demo: Reorganised) -> None:
    result = subprocess.run([sys.executable, "-m", "mailadmin", "stats", "--json"], capture_output=True, text=True,
                            env=child_environ(demo.directory), timeout=120, check=True)
    stats = json.loads(result.stdout)
    assert stats["total"] == 6888 and stats["by_tier"]["district"] == 0
    assert stats["units_by_kind"] == {"province": 1, "agency": 16, "district": 0, "commune": 27, "ward": 7,
                                      "special_zone": 0}


def test_every_old_address_resolves_through_the_postfix_maps(demo: Reorganised) -> None:
    folder = shared_folder()
    try:
        generate(_after_settings(demo), demo.services.client, "postfix", folder, mail_user="nobody")
        wanted = {m.mail: m for m in demo.before.values()}
        aliases = _postmap_all(folder, "ldap-virtual-alias-maps.cf", list(wanted))
        boxes = _postmap_all(folder, "ldap-virtual-mailbox-maps.cf", list(aliases.values()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert {old: aliases.get(old) for old in wanted} == {old: m.mail.replace("@phuyen.gov.vn", "@daklak.gov.vn")
                                                         for old, m in wanted.items()}
    assert {new: boxes.get(new) for new in aliases.values()} == {
        aliases[old]: f"{m.uid}/" for old, m in wanted.items()}


def _postmap_all(folder: Path, table: str, keys: list[str]) -> dict[str, str]:
    """`postmap -q -`: every key in one run, 'key value' lines back."""
    result = subprocess.run([POSTMAP, "-c", str(folder), "-q", "-", f"ldap:{folder}/{table}"], input="\n".join(keys),
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode in (0, 1), result.stderr
    return dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())


def _after_settings(demo: Reorganised) -> Any:
    settings = demo.directory.settings
    organisation = dataclasses.replace(settings.organisation, mail_domain="daklak.gov.vn",
                                       old_domains=("phuyen.gov.vn",))
    return dataclasses.replace(settings, organisation=organisation)


def test_old_addresses_are_delivered_by_our_smtpd_to_the_same_maildir(demo: Reorganised, tmp_path: Path) -> None:
    settings = _after_settings(demo)
    config = dataclasses.replace(smtp_config(settings), port=0, submission_port=0, spool=tmp_path / "spool",
                                 tls_cert=tmp_path / "tls.crt", tls_key=tmp_path / "tls.key")
    routing = mail_routing(settings)
    thread, running = start_smtpd(config, routing)
    sample = sorted(demo.before.values(), key=lambda m: m.uid)[::400]
    try:
        with smtplib.SMTP("127.0.0.1", running.ports.port, timeout=30) as client:
            for mailbox in sample:
                client.sendmail("congdan@example.vn", [mailbox.mail], message("congdan@example.vn", mailbox.mail))
    finally:
        thread.stop()
        routing.close()
    assert all(len(running.maildir(mailbox.uid)) == 1 for mailbox in sample)


def test_undo_restores_the_exact_previous_directory(demo: Reorganised) -> None:
    result = demo.services.reorg.undo(demo.job)
    assert result["not_undone"] == []
    eventually(lambda: _same(dump(demo.services), demo.dump_before), seconds=60)


def _same(now: dict[str, Any], wanted: dict[str, Any]) -> None:
    assert now == wanted

