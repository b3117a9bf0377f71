"""`mailadmin directory start|stop|status|init`: the private OpenLDAP server."""

from __future__ import annotations

import click

from mailadmin.cli import Context, pass_context
from mailadmin.cli.output import print_json
from mailadmin.services.setup import initialise
from mailadmin.slapd import PrivateSlapd


@click.group()
def directory() -> None:
    """Thư mục LDAP riêng / the private LDAP directory."""


@directory.command()
@pass_context
def start(context: Context) -> None:
    """Start the private slapd (creates it on first start)."""
    status = PrivateSlapd(context.settings).start()
    click.echo(f"slapd: {status.uri} (pid {status.pid})")


@directory.command()
@pass_context
def stop(context: Context) -> None:
    """Stop the private slapd of this state folder."""
    stopped = PrivateSlapd(context.settings).stop()
    click.echo("slapd: đã dừng / stopped" if stopped else "slapd: không chạy / not running")


@directory.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def status(context: Context, as_json: bool) -> None:
    """Where the directory listens; exit code 1 when the private slapd is not running."""
    settings = context.settings
    if not settings.embedded_directory:
        data = {"uri": " ".join(settings.ldap.uris), "base_dn": settings.organisation.base_dn,
                "bind_dn": settings.ldap.bind_dn, "password_file": settings.ldap.bind_password_file,
                "pid": None}
        print_json(data) if as_json else click.echo(f"external: {data['uri']}")
        return
    current = PrivateSlapd(settings).status()
    if as_json:
        print_json(current.as_dict())
    else:
        state = f"đang chạy / running, pid {current.pid}" if current.running else "dừng / stopped"
        click.echo(f"{current.uri}  {state}\nbase: {current.base_dn}\nbind: {current.bind_dn}\n"
                   f"password file: {current.password_file}")
    if not current.running:
        raise SystemExit(1)


@directory.command()
@pass_context
def init(context: Context) -> None:
    """Start the directory if needed, apply the password policy, load the unit list."""
    if context.settings.embedded_directory:
        PrivateSlapd(context.settings).start()
    report = initialise(context.services)
    click.echo(f"đơn vị / units: {report.created} mới / created, {report.renamed} đổi tên / renamed, "
               f"{report.unchanged} giữ nguyên / unchanged")
