"""`mailadmin units list`, `mailadmin units history`, `mailadmin units sync`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from mailadmin.cli import MailadminGroup, pass_services
from mailadmin.cli.output import print_json, print_table
from mailadmin.i18n import Text, current_language, t
from mailadmin.model import Unit
from mailadmin.services.units import SyncReport, UnitIndex, load_units_file
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
    """Units that ended (closed, merged away) and what became of them; CODE: one old code (or a current unit)."""
    index = services.units.index()
    if code and index.fate(code) is None:
        _show_current(index, index.get(code), as_json)  # NotFound for a code never seen
        return
    rows = _history_rows(index, [code] if code else sorted(index.former))
    if as_json:
        print_json(rows)
        return
    _print_history(rows)
    if code:
        click.echo(f"{rows[0]['fate_vi']} ({rows[0]['fate_en']})")


def _history_rows(index: UnitIndex, codes: list[str]) -> list[dict[str, Any]]:
    """One row per code that is no longer a unit of the tree: its old name, last day, successors and fate."""
    return [{"code": old, "name": index.former[old].name if old in index.former else "",
             "last_day": _day(index.former[old].valid_to) if old in index.former else "",
             "successors": [unit.code for unit in index.successors(old)],
             "fate_vi": fate.render("vi"), "fate_en": fate.render("en")}
            for old in codes if (fate := index.fate(old)) is not None]


def _print_history(rows: list[dict[str, Any]]) -> None:
    print_table(["Mã / code", "Tên / name", "Ngày cuối / last day", "Nay là / now"],
                [(row["code"], row["name"], row["last_day"], ", ".join(row["successors"]))
                 for row in rows])


def _show_current(index: UnitIndex, unit: Unit, as_json: bool) -> None:
    """A unit of today's tree: no history of its own; the history of the units it took over, if any."""
    rows = _history_rows(index, [old for old in unit.predecessors if old.casefold() != unit.code.casefold()])
    if as_json:
        print_json(rows)
        return
    if rows:
        _print_history(rows)
    note = _current_note(unit, [row["code"] for row in rows])
    click.echo(f"{note.render('vi')} ({note.render('en')})")


def _current_note(unit: Unit, taken: list[str]) -> Text:
    if not taken:
        return t("đơn vị {name} ({code}) đang hoạt động, không có lịch sử kết thúc",
                 "the unit {name} ({code}) is current: it has not ended", name=unit.name, code=unit.code)
    return t("đơn vị {name} ({code}) đang hoạt động; đã tiếp nhận {codes}",
             "the unit {name} ({code}) is current; it took over {codes}", name=unit.name, code=unit.code,
             codes=", ".join(taken))


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
