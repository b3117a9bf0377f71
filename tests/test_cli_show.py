"""`mailadmin mailbox show UID` as a table (it raised KeyError: 'name' on every mailbox)."""

from __future__ import annotations

import json

from tests.conftest import RunningDirectory
from tests.test_cli import run


def test_show_prints_a_table_with_the_full_name(directory: RunningDirectory) -> None:
    added = run(directory, "mailbox", "add", "Lê Thị Hồng Nhung", "--unit", "SYT", "--json")
    uid = json.loads(added.stdout)["uid"]
    shown = run(directory, "mailbox", "show", uid)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr
    assert "Lê Thị Hồng Nhung" in shown.stdout and uid in shown.stdout


def test_show_of_an_unknown_uid_is_a_clean_not_found(directory: RunningDirectory) -> None:
    shown = run(directory, "mailbox", "show", "khongcoai")
    assert shown.returncode == 3 and "Traceback" not in shown.stderr
    assert shown.stderr.startswith("Lỗi:") and "Error:" in shown.stderr
