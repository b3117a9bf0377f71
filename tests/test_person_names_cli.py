"""The one-mailbox create path judges a name like the import does: `mailadmin mailbox add` as a child process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mailadmin.model import Unit
from mailadmin.services.mailboxes import MailboxQuery
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ


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
