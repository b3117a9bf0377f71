"""`mailadmin role grant|revoke UID ROLE [--scope UNIT]`: who administers what, audited."""

from __future__ import annotations

import click

from mailadmin.cli import pass_services
from mailadmin.cli.output import print_json
from mailadmin.services.roles import RoleChange, RoleService, parse_role
from mailadmin.wiring import Services

ROLE_HELP = "superadmin | unitadmin | hr | auditor"
SCOPE_HELP = "Mã đơn vị (bắt buộc cho unitadmin, hr) / unit code (required for unitadmin and hr)."


@click.group()
def role() -> None:
    """Vai trò quản trị / administrative roles."""


def role_service(services: Services) -> RoleService:
    """The role service over the shared unit index, role store and audit log."""
    return services.role_changes


def show(change: RoleChange, as_json: bool) -> None:
    """The roles a person holds now, for people or tools."""
    data = change.as_dict()
    if as_json:
        print_json(data)
        return
    state = "đã cập nhật / updated" if change.changed else "không đổi / unchanged"
    roles = ", ".join(data["roles"]) or "—"  # type: ignore[arg-type]
    scopes = ", ".join(data["scopes"]) or "—"  # type: ignore[arg-type]
    click.echo(f"{change.uid}: {state}; vai trò / roles: {roles}; đơn vị / units: {scopes}")


@role.command()
@click.argument("uid")
@click.argument("role_name", metavar="ROLE")
@click.option("--scope", metavar="UNIT", help=SCOPE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def grant(services: Services, uid: str, role_name: str, scope: str | None, as_json: bool) -> None:
    """Give ROLE (superadmin | unitadmin | hr | auditor) to the mailbox UID."""
    show(role_service(services).grant(uid, parse_role(role_name), scope), as_json)


@role.command()
@click.argument("uid")
@click.argument("role_name", metavar="ROLE")
@click.option("--scope", metavar="UNIT", help="Chỉ bỏ đơn vị này / remove only this unit.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def revoke(services: Services, uid: str, role_name: str, scope: str | None, as_json: bool) -> None:
    """Take ROLE (or only its unit --scope) away from the mailbox UID."""
    show(role_service(services).revoke(uid, parse_role(role_name), scope), as_json)
