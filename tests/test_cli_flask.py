"""`flask --app mailadmin …` runs the same commands with the same clean errors (it printed tracebacks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningDirectory, child_environ


def flask(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "mailadmin", *args], capture_output=True,
                          text=True, env=environ, timeout=60)


@pytest.mark.parametrize(("args", "code"), [(("mailbox", "show", "khongtontai"), 3), (("stats",), 6),
                                            (("units", "list"), 6)])
def test_domain_errors_are_clean_under_flask(tmp_path: Path, directory: RunningDirectory,
                                             args: tuple[str, ...], code: int) -> None:
    environ = child_environ(directory) if code == 3 else {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path)}
    result = flask(environ, *args)
    assert result.returncode == code and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Lỗi: ") and "Error: " in result.stderr


def test_commands_still_work_under_flask(directory: RunningDirectory) -> None:
    result = flask(child_environ(directory), "directory", "status", "--json")
    assert result.returncode == 0 and '"base_dn"' in result.stdout, result.stderr
