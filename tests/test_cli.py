"""The `mailadmin` command: the same services, clean errors in both languages, JSON for tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningDirectory


def run(directory: RunningDirectory, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real console entry point against the test directory."""
    env = {**os.environ, "MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
           "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port),
           "MAILADMIN_PASSWORDS_ARGON2_MEMORY_KIB": "8192", "MAILADMIN_PASSWORDS_ARGON2_TIME_COST": "1"}
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=env, input=stdin, timeout=60)


def test_directory_status_json_has_the_contract_keys(directory: RunningDirectory) -> None:
    result = run(directory, "directory", "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status) == {"uri", "base_dn", "bind_dn", "password_file", "pid", "peers"}
    assert status["peers"] == []  # a single directory (replicated peers: tests/test_replication.py)
    assert status["uri"] == directory.slapd.uri and status["pid"] == directory.slapd.running_pid()
    assert Path(status["password_file"]).read_text() == directory.services.client.config.password


def test_mailbox_add_show_suspend_resume_move(directory: RunningDirectory) -> None:
    added = run(directory, "mailbox", "add", "Hồ Thị Cẩm Tú", "--unit", "SYT", "--hr-id", "CLI-1", "--json")
    assert added.returncode == 0, added.stderr
    data = json.loads(added.stdout)
    uid = data["uid"]
    assert data["mail"] == f"{uid}@phuyen.gov.vn" and uid.startswith("tuhtc")
    assert len(data["initial_password"]) >= 16
    shown = json.loads(run(directory, "mailbox", "show", uid, "--json").stdout)
    assert shown["full_name"] == "Hồ Thị Cẩm Tú" and shown["tier"] == "province"
    assert run(directory, "mailbox", "suspend", uid).stdout.strip().endswith("suspended")
    assert run(directory, "mailbox", "resume", uid).stdout.strip().endswith("active")
    assert "(commune)" in run(directory, "mailbox", "move", uid, "22015").stdout
    listed = json.loads(run(directory, "mailbox", "list", "--search", "cam tu", "--json").stdout)
    assert [m["uid"] for m in listed] == [uid]


def test_passwd_from_stdin_and_generated(directory: RunningDirectory) -> None:
    uid = json.loads(run(directory, "mailbox", "add", "Tô Văn Mật", "--unit", "STC", "--json").stdout)["uid"]
    chosen = run(directory, "mailbox", "passwd", uid, "--password-stdin", stdin="Mot-mat-khau-moi-2026\n")
    assert chosen.returncode == 0 and "shown once" not in chosen.stdout
    dn = directory.services.mailboxes.store.find_entry(uid).dn
    assert directory.services.client.check_password(dn, "Mot-mat-khau-moi-2026")
    generated = run(directory, "mailbox", "passwd", uid)
    new_password = generated.stdout.strip().rsplit(": ", 1)[1]
    assert directory.services.client.check_password(dn, new_password)


@pytest.mark.parametrize(("args", "code", "english"), [
    (("mailbox", "add", "Lê Văn Sai", "--unit", "999"), 3, "no unit with code 999"),
    (("mailbox", "show", "khongtontai"), 3, "no mailbox khongtontai"),
    (("mailbox", "add", "Lê Văn Sai", "--unit", "SNV", "--mail", "x@gmail.com"), 2,
     "address x@gmail.com is not in the domain"),
    (("mailbox", "add", "Lê Văn Sai", "--unit", "SNV", "--phone", "abc"), 2, "invalid phone number: abc"),
])
def test_errors_are_explained_in_vietnamese_and_english(directory: RunningDirectory, args: tuple[str, ...],
                                                        code: int, english: str) -> None:
    result = run(directory, *args)
    assert result.returncode == code
    assert result.stderr.startswith("Lỗi: ") and f"Error: {english}" in result.stderr
    assert "Traceback" not in result.stderr


def test_directory_down_is_a_clean_error(tmp_path: Path, directory: RunningDirectory) -> None:
    env = {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "mailadmin", "stats"], capture_output=True, text=True, env=env)
    assert result.returncode == 6
    assert "mailadmin directory start" in result.stderr and "Traceback" not in result.stderr


def test_units_list_and_stats(directory: RunningDirectory) -> None:
    units = json.loads(run(directory, "units", "list", "--json").stdout)
    districts = [u["code"] for u in units if u["kind"] == "district"]
    assert districts == ["555", "557", "558", "559", "560", "561", "562", "563", "564"]
    stats = json.loads(run(directory, "stats", "--json").stdout)
    assert set(stats["by_tier"]) == {"province", "district", "commune"}
    assert stats["total"] == sum(stats["by_tier"].values()) == sum(stats["by_status"].values())
