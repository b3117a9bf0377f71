"""`mailadmin token show|revoke UID`: the operator's view of a person's API token (a leaked one ends at once)."""

from __future__ import annotations

import click

from mailadmin.cli import pass_services
from mailadmin.cli.output import print_json
from mailadmin.services.tokens import TokenState
from mailadmin.web.display import vndate
from mailadmin.wiring import Services


@click.group()
def token() -> None:
    """Mã truy cập API / API tokens."""


def describe(uid: str, state: TokenState) -> str:
    """One line on a person's token, Vietnamese / English."""
    if state.issued is None:
        return f"{uid}: không có mã truy cập API / no API token"
    acting = "đang dùng được / active" if state.active else \
        "hết hiệu lực (đăng xuất, đổi mật khẩu) / acts no more (logout, password change)"
    return f"{uid}: tạo lúc / issued {vndate(state.issued)}; {acting}"


@token.command()
@click.argument("uid")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def show(services: Services, uid: str, as_json: bool) -> None:
    """When the API token of the mailbox UID was issued, and whether it still acts."""
    uid = services.mailboxes.get(uid).uid  # an unknown uid is an error, not "no token"
    state = services.tokens.state(uid)
    if as_json:
        print_json({"uid": uid, "issued": state.issued.isoformat() if state.issued else None, "active": state.active})
        return
    click.echo(describe(uid, state))


@token.command()
@click.argument("uid")
@pass_services
def revoke(services: Services, uid: str) -> None:
    """End the API token of the mailbox UID at once (audited)."""
    uid = services.mailboxes.get(uid).uid
    if services.tokens.revoke(uid):
        click.echo(f"{uid}: đã thu hồi mã truy cập API / API token revoked")
    else:
        click.echo(f"{uid}: không có mã truy cập API để thu hồi / no API token to revoke")
