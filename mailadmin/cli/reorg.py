"""`mailadmin reorg plan|apply FILE`, `reorg resume|undo|status JOB`: administrative reorganisations."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from mailadmin.cli import pass_services
from mailadmin.cli.jobs import progress_bar, run_job
from mailadmin.cli.output import print_in_doubt, print_json, print_table
from mailadmin.importer.reorg import ReorgPreview
from mailadmin.importer.reorgfile import MAX_PLAN_BYTES
from mailadmin.wiring import Services

SHOWN = 30


@click.group("reorg")
def reorg() -> None:
    """Sắp xếp lại đơn vị hành chính / administrative reorganisation (docs/reorg.md)."""


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read(MAX_PLAN_BYTES + 1)
    path = Path(file)
    if not path.is_file():
        raise click.BadParameter(f"không có tệp / no such file: {file}", param_hint="FILE")
    return path.read_bytes()


def _show_preview(preview: ReorgPreview, as_json: bool) -> None:
    summary = preview.summary()
    if as_json:
        print_json({**summary, "dry_run": True})
        return
    click.echo(f"{summary['plan']}: {summary['title']} ({summary['effective']}, @{summary['domain']})")
    print_table(["Đơn vị / unit", "Tên / name", "Loại / kind", "Tiếp nhận / takes", "Trước / before", "Sau / after"],
                [(u["code"], u["name"], u["kind"], ", ".join(u["takes"]), u["mailboxes_before"], u["mailboxes_after"])
                 for u in summary["units"]])
    click.echo(f"Hộp thư chuyển / mailboxes moving: {summary['mailboxes_moving']}; "
               f"địa chỉ đổi / addresses changing: {summary['addresses_changing']}; "
               f"vào đơn vị chờ / to the holding unit: {summary['to_holding_unit']}; "
               f"đơn vị không còn / units that end: {len(summary['units_closed'])} "
               f"({'giữ làm lịch sử / kept as history' if summary['closed_units'] == 'keep' else 'xóa / deleted'}); "
               f"quản trị đổi phạm vi / admins re-scoped: {summary['admins_rescoped']}")
    click.echo(f"Thao tác ghi / writes: {summary['writes']}")
    for conflict in summary["conflicts"][:SHOWN]:
        where = f"dòng / line {conflict['line']}, " if conflict["line"] else ""
        click.echo(f"  Xung đột / conflict: {where}{conflict['key']}: {conflict['vi']} ({conflict['en']})")


@reorg.command("plan")
@click.argument("file")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def plan(services: Services, file: str, as_json: bool) -> None:
    """Dry run: per unit before -> after, mailboxes moving, addresses changing, conflicts; writes nothing."""
    preview = services.reorg.preview(_read(file), file)
    _show_preview(preview, as_json)
    if preview.reorg.problems:
        sys.exit(2)


def _show_result(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['job']}: {result['state']}")
    for key in ("written", "undone"):
        if key in result:
            click.echo(f"  {key}: {result[key]}")
    for failure in (result.get("failed") or result.get("not_undone") or [])[:SHOWN]:
        click.echo(f"  #{failure['index']}: {failure['reason']}")
    if result.get("failed") or result.get("not_undone"):
        sys.exit(2)


@reorg.command()
@click.argument("file")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def apply(services: Services, file: str, as_json: bool) -> None:
    """Apply a plan file (journaled: resumable and undoable)."""
    preview = services.reorg.preview(_read(file), file)
    job = services.reorg.start(preview)
    click.echo(f"Công việc / job: {job.id}", err=True)
    _show_result(run_job(lambda progress: services.reorg.apply(job, progress), job.id, as_json, "reorg resume"),
                 as_json)


@reorg.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def resume(services: Services, job_id: str, as_json: bool) -> None:
    """Finish an interrupted reorganisation."""
    _show_result(run_job(lambda progress: services.reorg.resume(job_id, progress), job_id, as_json, "reorg resume"),
                 as_json)


@reorg.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def undo(services: Services, job_id: str, as_json: bool) -> None:
    """Put the directory back as it was before the reorganisation."""
    _show_result(run_job(lambda progress: services.reorg.undo(job_id, progress), job_id, as_json, "reorg undo"),
                 as_json)


@reorg.command()
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to compare with (default: today).")
@click.option("--dry-run", is_flag=True, help="Count the mailboxes; write nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def expire(services: Services, today: datetime | None, dry_run: bool, as_json: bool) -> None:
    """Drop old addresses kept past their date (addresses.old_addresses_until); undoable."""
    day = (today or datetime.now()).date()
    with progress_bar(not as_json and sys.stderr.isatty()) as progress:
        result = services.reorg.expire(day, dry_run, progress)
    if as_json:
        print_json(result)
        return
    job = f"; công việc / job: {result['job']} (undo: mailadmin reorg undo JOB)" if "job" in result else ""
    click.echo(f"Hộp thư / mailboxes: {result['mailboxes']}{job}")


@reorg.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def status(services: Services, job_id: str, as_json: bool) -> None:
    """What a reorganisation planned and how far it got."""
    result = services.reorg.status(job_id)
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['job']}: {result['state']} ({result['file']}, {result['created']}); "
               f"{result['done']} / {sum((result['writes'] or {}).values())}")
    print_in_doubt(result)
