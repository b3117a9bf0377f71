"""Running a journaled job (import, bulk, reorg) from the command line: a progress bar, and how to carry on."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from mailadmin.errors import Conflict, InvalidInput, NotFound, PermissionDenied

REFUSALS = (NotFound, InvalidInput, Conflict, PermissionDenied)  # an unknown or finished job, a busy one
Step = Callable[[Callable[[int, int], None] | None], dict[str, Any]]


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback drawing a bar on standard error, or None when not `enabled`."""
    if not enabled:
        yield None
        return
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("Ghi / writing", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def run_job(step: Step, job_id: str, as_json: bool, again: str) -> dict[str, Any]:
    """Run a job's apply, resume or undo with a progress bar; if it stops on the way, name `mailadmin AGAIN JOB`."""
    try:
        with progress_bar(not as_json and sys.stderr.isatty()) as progress:
            return step(progress)
    except (KeyboardInterrupt, Exception) as error:
        if not isinstance(error, REFUSALS):  # refused before writing anything: nothing to resume
            click.echo(f"Tiếp tục bằng / resume with: mailadmin {again} {job_id}", err=True)
        raise
