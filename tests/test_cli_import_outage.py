"""`mailadmin import` while slapd is killed: exit 6, a bilingual line and the resume hint, no traceback."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import RunningDirectory, child_environ, mailadmin_process
from tests.importer.helpers import csv_file

ROWS = 3000
LETTERS = "abcdeghiklmnopqrstuvxy"


def given_name(number: int) -> str:
    """A distinct given name per row, letters only (digits are refused in a person's name)."""
    word = ""
    while True:
        number, digit = divmod(number, len(LETTERS))
        word += LETTERS[digit]
        if not number:
            return word.capitalize()




def test_import_with_slapd_killed_exits_6_with_the_resume_hint(fresh_directory: RunningDirectory,
                                                               tmp_path: Path) -> None:
    source = tmp_path / "staff.csv"
    source.write_bytes(csv_file([[f"OUT-{n}", f"Trần Thị {given_name(n)}", "SYT", "Văn thư"]
                                         for n in range(ROWS)]))
    environ = child_environ(fresh_directory, imports_batch_size="25")
    jobs = fresh_directory.services.imports.jobs_dir
    with mailadmin_process("import", str(source), environ=environ) as process:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if jobs.exists() and any((folder / "done.log").exists() and (folder / "done.log").stat().st_size
                                     for folder in jobs.iterdir()):
                break
            time.sleep(0.01)
        pid = fresh_directory.slapd.running_pid()
        assert pid is not None and process.poll() is None
        # Frozen first, so the import is waiting for an answer (not sending) when slapd dies:
        # the case in which ldap3 waited out its 20 s and raised LDAPResponseTimeoutError.
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)  # slapd is this process's child: reap it
        _, stderr = process.communicate(timeout=120)
    [job] = [folder.name for folder in jobs.iterdir()]
    assert process.returncode == 6, stderr
    assert "Traceback" not in stderr
    assert "Lỗi:" in stderr and "Error:" in stderr
    assert f"mailadmin import resume {job}" in stderr
