"""`mailadmin directory start|stop|status|init|backup|restore`: the private OpenLDAP server."""

from __future__ import annotations

from pathlib import Path

import click

from mailadmin.cli import Context, MailadminGroup, external, pass_context
from mailadmin.cli.output import print_json
from mailadmin.cli.units import show_sync
from mailadmin.peer_join import join
from mailadmin.services.backup import BackupReport, backup, restore
from mailadmin.services.setup import initialise
from mailadmin.slapd import PrivateSlapd


@click.group(cls=MailadminGroup)
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
    slapd = PrivateSlapd(settings)
    current = slapd.status()
    peers = [peer.as_dict() for peer in slapd.peer_status()] if current.running else []
    if as_json:
        print_json({**current.as_dict(), "peers": peers})
    else:
        state = f"đang chạy / running, pid {current.pid}" if current.running else "dừng / stopped"
        click.echo(f"{current.uri}  {state}\nbase: {current.base_dn}\nbind: {current.bind_dn}\n"
                   f"password file: {current.password_file}")
        show_peers(peers)
    if not current.running:
        raise SystemExit(1)


@directory.command()
@pass_context
def init(context: Context) -> None:
    """Start the directory if needed, apply the password policy, load the unit list."""
    if context.settings.embedded_directory:
        slapd = PrivateSlapd(context.settings)
        if slapd.joins_peers:  # a new peer: the tree, policies and units come by replication
            status = slapd.start()
            click.echo(f"slapd: {status.uri} nhận cây từ / receives the tree from {', '.join(slapd.client_uris[1:])}")
            return
        slapd.start()
    show_sync(initialise(context.services))


def show_backup(report: BackupReport, verb: str, as_json: bool) -> None:
    """One line about a backup or restore, or its JSON."""
    if as_json:
        print_json(report.as_dict())
    else:
        click.echo(f"{verb}: {report.path} ({report.entries} mục / entries, {report.base_dn})")


@directory.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Tệp .tar.gz / the .tar.gz file to write (mode 0600).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def backup_command(context: Context, output: Path, as_json: bool) -> None:
    """Online backup: the directory as LDIF, secrets, import journals, audit log."""
    settings = context.settings
    client = None if settings.embedded_directory else context.services.client
    show_backup(backup(settings, output, client), "sao lưu / backup", as_json)


@directory.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Ghi đè thư mục đang có / overwrite a live or filled directory.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def restore_command(context: Context, archive: Path, force: bool, as_json: bool) -> None:
    """Load a backup into the private directory of this state folder."""
    show_backup(restore(context.settings, archive, force=force), "khôi phục / restored", as_json)


directory.add_command(external.prepare)
directory.add_command(external.check)


def show_peers(peers: list[dict[str, object]]) -> None:
    """One line per replicated peer: reachable, and how far behind this server."""
    for peer in peers:
        lag = peer["lag_seconds"]
        behind = "?" if lag is None else f"{lag:.1f} s"
        state = "trả lời / answers" if peer["reachable"] else "không trả lời / unreachable"
        click.echo(f"peer {peer['uri']}: {state}, chậm / behind {behind}")


@directory.command("join")
@click.argument("uri")
@click.option("--secrets-from", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Thư mục secrets/ của máy chủ đầu tiên / the first peer's secrets/ folder (copied here).")
@pass_context
def join_command(context: Context, uri: str, secrets_from: Path | None) -> None:
    """Make this new state folder a replicated peer of URI: it receives the whole tree."""
    status = join(context.settings, uri, secrets_from)
    peers = ",".join(dict.fromkeys((*context.settings.slapd.peers, uri)))
    click.echo(f"slapd: {status.uri} (pid {status.pid}) đã nhận cây / has the tree of {uri}\n"
               f"Đặt / set MAILADMIN_SLAPD_PEERS={peers} (và / and {status.uri} on {uri})")
