"""The `mailadmin` command's top level: every failure is a bilingual line and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port


def run_in(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILADMIN_STATE_DIR": str(state_dir), "MAILADMIN_SLAPD_PORT": str(free_port())}
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_a_state_folder_that_is_a_file_is_explained(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "var"
    not_a_folder.write_text("")
    result = run_in(not_a_folder, "directory", "start")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Lỗi: Lỗi hệ thống tệp: Not a directory")
    assert "Error: file system error: Not a directory" in result.stderr
    assert "correlation id" in result.stderr


def test_an_unexpected_error_leaves_its_traceback_in_the_log(tmp_path: Path) -> None:
    state = tmp_path / "var"
    (state / "ldap").mkdir(parents=True)
    (state / "ldap" / "slapd.conf").mkdir()  # where slapd's config file goes: a folder cannot be written
    result = run_in(state, "directory", "start")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    correlation = result.stderr.split("correlation id ")[1].split()[0].rstrip(";")
    log = (state / "log" / "mailadmin-cli.log").read_text()
    assert correlation in log and "Traceback" in log


def test_usage_errors_stay_click_usage_errors(tmp_path: Path) -> None:
    result = run_in(tmp_path, "mailbox", "show")
    assert result.returncode == 2 and "Missing argument" in result.stderr


def test_a_usage_error_is_said_in_vietnamese_too(tmp_path: Path) -> None:
    """Click's usage errors were English only ("Error: No such option: --bogus"); one Vietnamese line comes first."""
    for args, english in ((("mailbox", "show"), "Missing argument 'UID'"),
                          (("mailbox", "list", "--limit", "*"), "'*' is not a valid integer"),
                          (("role", "grant", "annv", "superadmin", "--bogus"), "No such option '--bogus'")):
        result = run_in(tmp_path, *args)
        assert result.returncode == 2 and english in result.stderr, result.stderr
        assert result.stderr.startswith("Lỗi: lệnh gọi sai cách") and result.stderr.count("Lỗi:") == 1
