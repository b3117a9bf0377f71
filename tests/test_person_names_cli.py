"""The one-mailbox create path judges a name like the import does: `mailadmin mailbox add` as a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailadmin.model import PersonName, Unit
from mailadmin.names import split_name
from mailadmin.services.mailboxes import MailboxQuery
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ
from tests.importer.helpers import csv_file


def mailbox_add(directory: RunningDirectory, name: str, unit: Unit) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailadmin", "mailbox", "add", name, "--unit", unit.code],
                          capture_output=True, text=True, env=child_environ(directory), timeout=60)


@pytest.mark.parametrize("name", ["*)(objectClass=*", "cn=admin,dc=phuyen,dc=gov,dc=vn",
                                  '=HYPERLINK("http://evil","x")'])
def test_mailbox_add_refuses_what_is_not_a_name(directory: RunningDirectory, services: Services, unit: Unit,
                                                name: str) -> None:
    done = mailbox_add(directory, name, unit)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "Lỗi: Họ tên chứa ký tự" in done.stderr and "a person's name does not hold" in done.stderr
    assert list(services.mailboxes.find(MailboxQuery(unit_code=unit.code))) == []


def test_mailbox_add_takes_a_name_with_apostrophes(directory: RunningDirectory, unit: Unit) -> None:
    done = mailbox_add(directory, "H’Hen Niê", unit)
    assert done.returncode == 0, done.stderr


def mailboxes_of(services: Services, unit: Unit) -> dict[str, PersonName]:
    """Address base (the local part without the number a collision with another test's mailbox adds) -> name."""
    return {m.uid.rstrip("0123456789"): m.name for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code))}


def test_an_ede_name_keeps_its_order_through_mailbox_add(directory: RunningDirectory, services: Services,
                                                         unit: Unit) -> None:
    for name in ("Y Moan Niê", "H'Hen Niê", "Y Ngông Niê Kdăm"):
        done = mailbox_add(directory, name, unit)
        assert done.returncode == 0, done.stderr
    held = mailboxes_of(services, unit)
    assert sorted(held) == ["hennh", "moanny", "ngongny"]
    assert held["moanny"] == split_name("Y Moan Niê") and held["moanny"].full == "Y Moan Niê"
    assert held["ngongny"].family == "Niê Kdăm" and held["hennh"].full == "H'Hen Niê"


def test_the_rule_follows_the_setting(directory: RunningDirectory, services: Services, unit: Unit) -> None:
    done = subprocess.run([sys.executable, "-m", "mailadmin", "mailbox", "add", "Y Moan Niê", "--unit", unit.code],
                          capture_output=True, text=True, timeout=60,
                          env=child_environ(directory, names_family_last_prefixes=""))
    assert done.returncode == 0, done.stderr
    assert list(mailboxes_of(services, unit)) == ["nieym"]


def test_an_import_row_splits_the_same_way_and_reimports_unchanged(directory: RunningDirectory, services: Services,
                                                                   unit: Unit, tmp_path: Path) -> None:
    rows = [["HR-EDE-1", "Y Moan Niê", unit.code], ["HR-EDE-2", "H’Hen Niê", unit.code],
            ["HR-EDE-3", "Ksor Phước Hà", unit.code], ["HR-EDE-4", "Điểu K'Ré", unit.code]]
    path = tmp_path / "staff.csv"
    path.write_bytes(csv_file(rows))
    command = [sys.executable, "-m", "mailadmin", "import", str(path), "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=child_environ(directory), timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["errors"] == []
    held = mailboxes_of(services, unit)
    assert sorted(held) == ["hakp", "hennh", "kred", "moanny"]
    assert held["hennh"].full == "H’Hen Niê" and held["hakp"].family == "Ksor"
    again = services.imports.preview(csv_file(rows), "again.csv")
    assert again.plan.writes == [] and again.plan.counts()["unchanged"] == 4
