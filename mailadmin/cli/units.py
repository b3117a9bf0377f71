"""`mailadmin units list`, `mailadmin units history`, `mailadmin units sync`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from mailadmin.cli import MailadminGroup, pass_services
from mailadmin.cli.output import print_json, print_table
from mailadmin.i18n import current_language
from mailadmin.services.units import SyncReport, load_units_file
from mailadmin.wiring import Services


@click.group(cls=MailadminGroup)
def units() -> None:
    """Đơn vị / units."""


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def list_units(services: Services, as_json: bool) -> None:
    """The unit tree with codes, kinds and tiers."""
    index = services.units.index()
    tree = list(index.walk())
    if as_json:
        print_json([{"code": u.code, "name": u.name, "kind": u.kind.value, "tier": u.tier.value,
                     "parent": u.parent_code} for u in tree])
        return
    print_table(["Mã / code", "Tên / name", "Loại / kind", "Cấp / tier"],
                [(u.code, "  " * u.depth + u.name, u.kind.value, u.tier.value) for u in tree])


@units.command("history")
@click.argument("code", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def history(services: Services, code: str | None, as_json: bool) -> None:
    """Units that ended (closed, merged away) and what became of them; CODE: one old code."""
    index = services.units.index()
    codes = [code] if code else sorted(index.former)
    if code and index.fate(code) is None:
        index.get(code)  # a living unit, or NotFound for a code never seen
    rows = [{"code": old, "name": index.former[old].name if old in index.former else "",
             "last_day": _day(index.former[old].valid_to) if old in index.former else "",
             "successors": [unit.code for unit in index.successors(old)],
             "fate_vi": fate.render("vi"), "fate_en": fate.render("en")}
            for old in codes if (fate := index.fate(old)) is not None]
    if as_json:
        print_json(rows)
        return
    print_table(["Mã / code", "Tên / name", "Ngày cuối / last day", "Nay là / now"],
                [(row["code"], row["name"], row["last_day"], ", ".join(row["successors"])) for row in rows])
    if code:
        click.echo(f"{rows[0]['fate_vi']} ({rows[0]['fate_en']})")


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


@units.command("sync")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def sync(services: Services, file: Path | None, dry_run: bool, as_json: bool) -> None:
    """Load the unit list (FILE, else organisation.units_file): create and rename units, never re-create ended ones."""
    settings = services.settings
    report = services.units.sync(load_units_file(file or settings.resolve(settings.organisation.units_file)),
                                 dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
    else:
        show_sync(report)


def show_sync(report: SyncReport) -> None:
    """The counts of a unit list load, then one line per unit of the list it left alone."""
    verb = "chạy thử, chưa ghi gì / dry run, nothing written: " if report.dry_run else ""
    click.echo(f"đơn vị / units: {verb}{report.created} mới / created, {report.renamed} đổi tên / renamed, "
               f"{report.unchanged} giữ nguyên / unchanged, {len(report.skipped)} bỏ qua / skipped")
    for note in report.skipped:
        click.echo(f"  {note.render(current_language())}")
