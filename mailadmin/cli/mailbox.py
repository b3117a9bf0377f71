"""`mailadmin mailbox add|show|list|suspend|resume|retire|passwd|second-factor-reset|move`."""

from __future__ import annotations

import sys

import click

from mailadmin.cli import MailadminGroup, pass_services
from mailadmin.cli.output import print_json, print_secret, print_table
from mailadmin.model import Status, Tier
from mailadmin.services.mailboxes import MAX_QUOTA_MIB, MailboxQuery, NewMailbox, mailbox_record
from mailadmin.wiring import Services


@click.group(cls=MailadminGroup)
def mailbox() -> None:
    """Hộp thư / mailboxes."""


def _read_password(from_stdin: bool) -> str:
    return sys.stdin.readline().rstrip("\n") if from_stdin else ""


@mailbox.command()
@click.argument("full_name")
@click.option("--unit", "unit_code", required=True, help="Unit code (mailadmin units list).")
@click.option("--mail", default="", help="Local part or address; generated from the name when omitted.")
@click.option("--title", default="")
@click.option("--phone", default="")
@click.option("--hr-id", default="", help="Stable HR identifier.")
@click.option("--alias", "aliases", multiple=True, help="Extra address (repeatable).")
@click.option("--quota", "quota_mib", type=click.IntRange(1, MAX_QUOTA_MIB), default=None, help="MiB.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def add(services: Services, full_name: str, unit_code: str, mail: str, title: str, phone: str,
        hr_id: str, aliases: tuple[str, ...], quota_mib: int | None, password_stdin: bool,
        as_json: bool) -> None:
    """Create a mailbox; prints the generated password once."""
    created = services.mailboxes.add(NewMailbox(
        full_name=full_name, unit_code=unit_code, mail=mail, title=title, phone=phone, hr_id=hr_id,
        aliases=aliases, quota_mib=quota_mib or 0, password=_read_password(password_stdin)))
    if as_json:
        print_json({**mailbox_record(created.mailbox), "initial_password": created.initial_password})
        return
    click.echo(f"Đã tạo / created: {created.mailbox.mail} ({created.mailbox.name.full})")
    if created.initial_password:
        print_secret("Mật khẩu ban đầu / initial password (shown once)", created.initial_password)


@mailbox.command()
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def show(services: Services, uid: str, as_json: bool) -> None:
    """Every field of one mailbox."""
    item = services.mailboxes.get(uid)
    data = mailbox_record(item)
    if as_json:
        print_json(data)
        return
    print_table(["Trường / field", "Giá trị / value"], [(k, v) for k, v in data.items()])


@mailbox.command("list")
@click.option("--unit", "unit_code", default=None, help="Only this unit and the units below it.")
@click.option("--tier", type=click.Choice([t.value for t in Tier]), default=None)
@click.option("--status", type=click.Choice([s.value for s in Status]), default=None)
@click.option("--search", "text", default="", help="Name (with or without diacritics), mail or HR id.")
@click.option("--limit", type=click.IntRange(0), default=50, show_default=True, help="0: all.")
@click.option("--json", "as_json", is_flag=True)
@pass_services
def list_mailboxes(services: Services, unit_code: str | None, tier: str | None, status: str | None,
                   text: str, limit: int, as_json: bool) -> None:
    """Mailboxes matching the filters."""
    found = list(services.mailboxes.find(MailboxQuery(
        unit_code=unit_code, tier=Tier(tier) if tier else None,
        status=Status(status) if status else None, text=text, limit=limit)))
    if as_json:
        print_json([mailbox_record(m) for m in found])
        return
    print_table(["uid", "Họ tên / name", "Đơn vị / unit", "Cấp / tier", "Trạng thái / status"],
                [(m.uid, m.name.full, m.unit_code, m.tier.value, m.status.value) for m in found])


def _status_command(name: str, help_text: str) -> None:
    """Register `mailbox <name> UID`, calling MailboxService.<name>."""
    @click.argument("uid")
    @pass_services
    def command(services: Services, uid: str) -> None:
        item = getattr(services.mailboxes, name)(uid)
        kept = f" (giữ đến / kept until {item.retain_until})" if item.retain_until else ""
        click.echo(f"{item.mail}: {item.status.value}{kept}")
    mailbox.command(name, help=help_text)(command)


_status_command("suspend", "Suspend: the owner can no longer log in; nothing is deleted.")
_status_command("resume", "Reactivate a suspended or retired mailbox.")
_status_command("retire", "Retire: kept until the retention date, login refused.")


@mailbox.command()
@click.argument("uid")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@pass_services
def passwd(services: Services, uid: str, password_stdin: bool) -> None:
    """Reset a password (generated unless given); the owner must change it at next login."""
    initial = services.mailboxes.reset_password(uid, _read_password(password_stdin) or None)
    click.echo(f"{uid}: đã đặt lại mật khẩu / password reset")
    if initial:
        print_secret("Mật khẩu mới / new password (shown once)", initial)


@mailbox.command("second-factor-reset")
@click.argument("uid")
@pass_services
def second_factor_reset(services: Services, uid: str) -> None:
    """Remove a person's second factor (lost phone and recovery codes); they enrol again at next login."""
    item = services.mailboxes.get(uid)
    if not services.roles.holder(item.uid).second_factor:  # type: ignore[union-attr]
        click.echo(f"{item.uid}: chưa có yếu tố thứ hai / has no second factor")
        return
    services.second_factor.reset_by_operator(item)
    click.echo(f"{item.uid}: đã xóa yếu tố thứ hai / second factor removed")


@mailbox.command()
@click.argument("uid")
@click.argument("unit_code")
@pass_services
def move(services: Services, uid: str, unit_code: str) -> None:
    """Move a mailbox to another unit (its tier follows the unit)."""
    item = services.mailboxes.move(uid, unit_code)
    click.echo(f"{item.mail}: {item.unit_code} ({item.tier.value})")
