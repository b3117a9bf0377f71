"""`mailadmin bulk list|status|resume|undo|prune`: the web's bulk actions (importer/bulk.py) from the command line.

The jobs are those of the mailbox list's bulk form (suspend, reactivate, move a selection or a whole
search): started on the web, and carried on or undone here as `import` and `reorg` jobs are. As with
those, the command line acts as the operator (who holds the state folder and the directory's
password): no person's rights are checked, the rules of the actions are (a finished job only is
undone, a mailbox changed since is left alone, the last active super admin is never suspended).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from mailadmin.cli import pass_services
from mailadmin.cli.jobs import run_job
from mailadmin.cli.output import print_in_doubt, print_json, print_table
from mailadmin.wiring import Services

SHOWN = 30


@click.group("bulk")
def bulk() -> None:
    """Thao tác hàng loạt trên hộp thư / bulk actions on mailboxes (docs/web.md).

    \b
    mailadmin bulk list [--json]
    mailadmin bulk status|resume|undo JOB [--json]
    mailadmin bulk prune [--json]
    """


def _target(job: dict[str, Any]) -> str:
    return f" -> {job['target']}" if job.get("target") else ""


@bulk.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def list_jobs(services: Services, as_json: bool) -> None:
    """Every bulk job, oldest first."""
    jobs = services.bulk.jobs()
    if as_json:
        print_json(jobs)
        return
    # One line per job, not a table: a terminal's width would cut the job ids people copy from it.
    for job in jobs:
        click.echo(f"{job['job']}  {job['created']}  {job['owner'] or '-'}  {job['action']}{_target(job)}  "
                   f"{job['state']}  {job['done']}/{job['total']}")


@bulk.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def status(services: Services, job_id: str, as_json: bool) -> None:
    """What a bulk job planned and how far it got."""
    result = services.bulk.summary(services.bulk.job(job_id))
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['job']}: {result['action']}{_target(result)}, {result['state']} "
               f"({result['created']}, {result['owner']}); {result['done']} / {result['total']}")
    print_table(["Kết quả / outcome", "Hộp thư / mailboxes"], [(k, v) for k, v in result["counts"].items()])
    for key in ("failed", "not_undone"):
        if result[key]:
            click.echo(f"  {key}: {result[key]}")
    print_in_doubt(result)


def _show(result: dict[str, Any], as_json: bool) -> None:
    """A resume's or an undo's summary; exit 2 if a mailbox was refused or left alone."""
    refused = result.get("failed") or result.get("not_undone") or []
    if as_json:
        print_json(result)
    else:
        click.echo(f"{result['job']}: {result['state']}")
        for key in ("done", "unchanged", "undone"):
            if key in result:
                click.echo(f"  {key}: {result[key]}")
        for item in refused[:SHOWN]:
            click.echo(f"  #{item['index']}: {item['reason']}")
    if refused:
        sys.exit(2)


def _carry_on(name: str, help_text: str) -> None:
    """Register `bulk <name> JOB [--json]`, calling BulkService.<name> with a progress bar."""
    @click.argument("job_id", metavar="JOB")
    @click.option("--json", "as_json", is_flag=True)
    @pass_services
    def command(services: Services, job_id: str, as_json: bool) -> None:
        step = getattr(services.bulk, name)
        _show(run_job(lambda progress: step(job_id, progress), job_id, as_json, f"bulk {name}"), as_json)
    bulk.command(name, help=help_text)(command)


_carry_on("resume", "Finish a bulk job that was interrupted (the web process ended, the directory was lost).")
_carry_on("undo", "Put back every mailbox a finished bulk job changed (one changed since is left alone and reported).")


@bulk.command()
@click.option("--json", "as_json", is_flag=True)
@pass_services
def prune(services: Services, as_json: bool) -> None:
    """Delete bulk jobs never applied past imports.unconfirmed_hours, and old form markers (as `import prune`)."""
    removed = services.bulk.prune()
    if as_json:
        print_json(removed)
        return
    click.echo(f"Đã xóa công việc chưa chạy / jobs never applied removed: {len(removed['jobs'])}; "
               f"dấu biểu mẫu / form markers removed: {len(removed['markers'])}")
