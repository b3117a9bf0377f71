"""`directory prepare|check` refuse bad input with a bilingual line and an exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(tmp_path: Path, *args: str, uris: str = "ldap://127.0.0.1:9") -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path / "state"),
               "MAILADMIN_LDAP_URIS": uris, "MAILADMIN_LDAP_BIND_DN": "cn=x"}
    return subprocess.run([sys.executable, "-m", "mailadmin", "directory", *args], env=environ,
                          capture_output=True, text=True, timeout=60, check=False)


def test_prepare_without_external_names_the_private_path(tmp_path: Path) -> None:
    result = run(tmp_path, "prepare")
    assert result.returncode == 2
    assert "Thư mục riêng tự chuẩn bị" in result.stderr and "use --external" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_socket_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    uri = "ldapi://" + str(tmp_path / "khong-co").replace("/", "%2F")
    for command in (["prepare", "--external"], ["check"]):
        result = run(tmp_path, *command, "--config-uri", uri)
        assert result.returncode == 6, result.stderr
        assert "Không mở được" in result.stderr and "cannot open" in result.stderr
        assert "Traceback" not in result.stderr


def test_the_private_directory_is_not_prepared_as_an_external_one(tmp_path: Path) -> None:
    for command in (["prepare", "--external"], ["check"]):
        result = run(tmp_path, *command, uris="")
        assert result.returncode == 2, result.stderr
        assert "ldap.uris trống" in result.stderr and "ldap.uris is empty" in result.stderr
        assert "Traceback" not in result.stderr
