"""`mailadmin import undo` that loses the directory names the command that carries the undo on (`import
undo JOB`): `import resume` refuses a job being undone."""

from __future__ import annotations

from tests.conftest import RunningDirectory, child_environ, mailadmin_process
from tests.importer.helpers import csv_file


def undo_cut_off_then_again(directory: RunningDirectory, group: str, job_id: str) -> None:
    """`mailadmin GROUP undo JOB` with slapd stopped: exit 6 naming `GROUP undo JOB`; run again, it finishes."""
    directory.slapd.stop()
    with mailadmin_process(group, "undo", job_id, environ=child_environ(directory)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 6 and "Traceback" not in stderr, stderr
    assert f"mailadmin {group} undo {job_id}" in stderr and f"{group} resume" not in stderr
    directory.slapd.start()
    with mailadmin_process(group, "undo", job_id, environ=child_environ(directory)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr


def test_an_undo_cut_off_says_to_run_the_undo_again(fresh_directory: RunningDirectory) -> None:
    imports = fresh_directory.services.imports
    job = imports.start(imports.preview(csv_file([["HINT-1", "Trần Thị Gợi Ý", "SYT", "Văn thư"]]), "hint.csv"))
    imports.apply(job)
    undo_cut_off_then_again(fresh_directory, "import", job.id)
    assert imports.status(job.id)["state"] == "undone"
