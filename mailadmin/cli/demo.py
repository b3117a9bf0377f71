"""`mailadmin demo seed`: the demo province."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from mailadmin.cli import Context, pass_context
from mailadmin.services.demo import DEMO_COUNTS, admin_password_path, demo_admin_password, seed_demo
from mailadmin.slapd import PrivateSlapd


@click.group()
def demo() -> None:
    """Dữ liệu mẫu / demo data."""


@demo.command()
@click.option("--force", is_flag=True, help="Replace an earlier demo (refused if anything else is there).")
@pass_context
def seed(context: Context, force: bool) -> None:
    """Load the unit tree and 6,888 synthetic mailboxes (only into a directory without mailboxes)."""
    settings = context.settings
    if settings.embedded_directory:
        PrivateSlapd(settings).start()
    password = demo_admin_password(settings)
    total = sum(DEMO_COUNTS.values())
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("Tạo hộp thư / creating mailboxes", total=total)
        report = seed_demo(context.services, password,
                           lambda done: progress.update(task, completed=done + 1), force=force)
    if report.skipped:
        click.echo("Thư mục đã có dữ liệu mẫu: bỏ qua (--force để nạp lại) / "
                   "the directory already holds the demo: skipped (--force to seed again)")
    else:
        click.echo(f"Đơn vị mới / units created: {report.units_created}; hộp thư / mailboxes: "
                   f"{report.mailboxes_created}; lỗi / failures: {report.failures}")
    click.echo(f"Quản trị demo / demo admin: {settings.demo.admin_uid} "
               f"(mật khẩu trong / password in {admin_password_path(settings)})")
