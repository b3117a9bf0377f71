"""`mailadmin import FILE|-`, `import resume|undo|status JOB`, `import prune`, `import template`, `mailadmin export`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, BinaryIO

import click

from mailadmin.cli import pass_services
from mailadmin.cli.jobs import run_job
from mailadmin.cli.output import print_in_doubt, print_json, print_table
from mailadmin.importer.export import export_csv, export_yaml, template_csv
from mailadmin.importer.plan import PlanOptions
from mailadmin.importer.report import result_rows, results_csv, write_once
from mailadmin.wiring import Services

SHOWN_ERRORS = 30


class ImportGroup(click.Group):
    """`import FILE` runs the import itself; resume, undo, status and template are sub-commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group("import", cls=ImportGroup)
def import_group() -> None:
    """Nhập hàng loạt / bulk import.

    \b
    mailadmin import FILE|- [--dry-run] [--format csv|yaml] [--all-or-nothing]
                            [--retire-missing UNIT] [--report OUT.csv] [--welcome vi|en] [--json]
    mailadmin import resume|undo|status JOB
    mailadmin import welcome JOB [--lang vi|en]
    mailadmin import prune [--json]
    mailadmin import template [-o FILE]
    """


def _read(file: str, services: Services) -> bytes:
    limit = services.settings.imports.max_file_mib * 1024 * 1024
    if file == "-":
        data = sys.stdin.buffer.read(limit + 1)
    else:
        path = Path(file)
        if not path.is_file():
            raise click.BadParameter(f"không có tệp / no such file: {file}", param_hint="FILE")
        services.imports.check_size(path.stat().st_size)
        data = path.read_bytes()
    services.imports.check_size(len(data))
    return data


def _show(result: dict[str, Any], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print_json({**result, **(extra or {})})
    else:
        print_table(["Kết quả / outcome", "Số dòng / rows"], [(k, v) for k, v in result["counts"].items()])
        problems = [(e["line"], e["column"], e["error_vi"], e["error_en"]) for e in result["errors"]]
        problems += [(f["line"], "", f["error"], "") for f in result.get("failed", [])]
        if problems:
            print_table(["Dòng / line", "Cột / column", "Lỗi", "Error"], problems[:SHOWN_ERRORS])
            if len(problems) > SHOWN_ERRORS:
                click.echo(f"… {len(problems) - SHOWN_ERRORS} lỗi nữa / more errors (--report OUT.csv)")
        for note in result.get("notes", []):
            click.echo(f"Cảnh báo: {note['vi']} / Warning: {note['en']}")
        warnings = [(w["line"], w["column"], w["warning_vi"], w["warning_en"]) for w in result.get("warnings", [])]
        if warnings:
            print_table(["Dòng / line", "Cột / column", "Cảnh báo", "Warning"], warnings[:SHOWN_ERRORS])
        if "welcome" in result:
            _show_welcome(result["welcome"])
        for key, value in (extra or {}).items():
            click.echo(f"{key}: {value}")
    if result["errors"] or result.get("failed"):
        sys.exit(2)


@import_group.command("run", hidden=True)
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@click.option("--format", "file_format", type=click.Choice(["csv", "yaml", "xlsx"]), default=None)
@click.option("--all-or-nothing", is_flag=True, help="Import nothing if any row has an error.")
@click.option("--retire-missing", "retire_missing", metavar="UNIT", default=None,
              help="Retire the people of UNIT (and below) that the file no longer lists.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Per-row results CSV (mode 0600; with initial passwords; never overwritten).")
@click.option("--welcome", type=click.Choice(["vi", "en"]), default=None,
              help="Then mail each created mailbox the welcome mail in this language.")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def run(services: Services, file: str, dry_run: bool, file_format: str | None, all_or_nothing: bool,
        retire_missing: str | None, report: Path | None, welcome: str | None, as_json: bool) -> None:
    """Import FILE (- for standard input)."""
    if report is not None and report.exists():
        raise click.BadParameter(f"{report} đã có / exists", param_hint="--report")
    options = PlanOptions(retire_missing=retire_missing, retention_days=services.settings.mailboxes.retention_days)
    preview = services.imports.preview(_read(file, services), file, file_format, options)
    if dry_run:
        if report is not None:
            write_once(report, results_csv(result_rows(preview.plan.actions, None, {})))
        _show(preview.summary(), as_json, {"dry_run": True})
        return
    job = services.imports.start(preview, all_or_nothing=all_or_nothing, welcome=welcome)
    del preview  # the journal holds the plan now: do not keep two copies in memory while applying
    click.echo(f"Công việc / job: {job.id}", err=True)
    result = run_job(lambda progress: services.imports.apply(job, progress, report), job.id, as_json, "import resume")
    _show(result, as_json, {"results": str(report or job.folder / "results.csv")})


@import_group.command()
@click.argument("job_id", metavar="JOB")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--json", "as_json", is_flag=True)
@pass_services
def resume(services: Services, job_id: str, report: Path | None, as_json: bool) -> None:
    """Finish an interrupted import job."""
    result = run_job(lambda progress: services.imports.resume(job_id, progress, report), job_id, as_json,
                     "import resume")
    _show(result, as_json, {"results": str(report or services.imports.job(job_id).folder / "results.csv")})


@import_group.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def undo(services: Services, job_id: str, as_json: bool) -> None:
    """Revert a finished import job."""
    result = run_job(lambda progress: services.imports.undo(job_id, progress), job_id, as_json, "import undo")
    if as_json:
        print_json(result)
        return
    click.echo(f"Đã hoàn tác / undone: {result['undone']}; giữ nguyên / left alone: {len(result['not_undone'])}")
    for item in result["not_undone"][:SHOWN_ERRORS]:
        click.echo(f"  #{item['index']}: {item['reason']}")


@import_group.command()
@click.argument("job_id", metavar="JOB")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def status(services: Services, job_id: str, as_json: bool) -> None:
    """What a job planned and how far it got."""
    result = services.imports.status(job_id)
    if as_json:
        print_json(result)
        return
    click.echo(f"{result['job']}: {result['state']} ({result['file']}, {result['created']})")
    print_table(["Kết quả / outcome", "Số dòng / rows"], [(k, v) for k, v in result["counts"].items()])
    print_in_doubt(result)


def _show_welcome(welcome: dict[str, Any]) -> None:
    click.echo(f"Thư chào mừng / welcome mails: {welcome['sent']} đã gửi / sent, "
               f"{welcome['already']} đã có / sent before, {len(welcome['failed'])} lỗi / failed")
    for failure in welcome["failed"][:SHOWN_ERRORS]:
        click.echo(f"  {failure['uid']}: {failure['error']}")


@import_group.command()
@click.argument("job_id", metavar="JOB")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@pass_services
def welcome(services: Services, job_id: str, lang: str, as_json: bool) -> None:
    """Welcome mails for a finished job's new mailboxes that have not had one (e.g. after an SMTP outage)."""
    result = services.imports.send_welcome(job_id, lang)
    if as_json:
        print_json(result)
    else:
        _show_welcome(result)
    if result["failed"]:
        sys.exit(2)


@import_group.command()
@click.option("--json", "as_json", is_flag=True)
@pass_services
def prune(services: Services, as_json: bool) -> None:
    """Delete unconfirmed jobs and untaken results files past imports.unconfirmed_hours / results_days,
    and bulk jobs never applied (with old form markers) by the same rules."""
    removed, bulk = services.imports.prune(), services.bulk.prune()
    if as_json:
        print_json({**removed, "bulk": bulk})
        return
    click.echo(f"Đã xóa công việc chưa xác nhận / unconfirmed jobs removed: {len(removed['jobs'])}; "
               f"tệp kết quả chưa tải / untaken results files removed: {len(removed['results'])}; "
               f"thao tác hàng loạt chưa chạy / bulk jobs never applied removed: {len(bulk['jobs'])}")


def _output(data: bytes, output: BinaryIO | None) -> None:
    (output or sys.stdout.buffer).write(data)


@import_group.command()
@click.option("-o", "output", type=click.File("wb"), default=None, help="File (default: standard output).")
def template(output: BinaryIO | None) -> None:
    """The CSV template with Vietnamese and English headers."""
    _output(template_csv(), output)


@click.command("export")
@click.option("--unit", "unit_code", default=None, help="Only this unit and the units below it.")
@click.option("--format", "file_format", type=click.Choice(["csv", "yaml", "xlsx"]), default="csv", show_default=True)
@click.option("-o", "output", type=click.File("wb"), default=None, help="File (default: standard output).")
@pass_services
def export(services: Services, unit_code: str | None, file_format: str, output: BinaryIO | None) -> None:
    """Mailboxes of a unit subtree as CSV or YAML that `mailadmin import` takes back."""
    mailboxes = services.imports.export(unit_code)
    _output(export_csv(mailboxes) if file_format == "csv" else export_yaml(mailboxes), output)
