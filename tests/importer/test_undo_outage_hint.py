"""`mailadmin import undo` that loses the directory names the command that carries the undo on (`import
undo JOB`): `import resume` refuses a job being undone."""

from __future__ import annotations

from tests.conftest import RunningDirectory, child_environ, mailadmin_process
from tests.importer.helpers import csv_file


def test_an_undo_cut_off_says_to_run_the_undo_again(fresh_directory: RunningDirectory) -> None:
    imports = fresh_directory.services.imports
    job = imports.start(imports.preview(csv_file([["HINT-1", "Trần Thị Gợi Ý", "SYT", "Văn thư"]]), "hint.csv"))
    imports.apply(job)
    fresh_directory.slapd.stop()
    with mailadmin_process("import", "undo", job.id, environ=child_environ(fresh_directory)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 6 and "Traceback" not in stderr, stderr
    assert f"mailadmin import undo {job.id}" in stderr and "import resume" not in stderr
    fresh_directory.slapd.start()
    with mailadmin_process("import", "undo", job.id, environ=child_environ(fresh_directory)) as process:
        _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert imports.status(job.id)["state"] == "undone"
