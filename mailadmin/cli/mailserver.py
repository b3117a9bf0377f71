"""`mailadmin mailserver-config postfix|dovecot [-o DIR]`: generated mail-server configurations."""

from __future__ import annotations

from pathlib import Path

import click

from mailadmin.cli import pass_services
from mailadmin.mailserver.generate import generate
from mailadmin.wiring import Services


@click.command("mailserver-config")
@click.argument("kind", type=click.Choice(["postfix", "dovecot"]))
@click.option("-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục ghi tệp (mode 0600) / folder to write the files to; default: print them")
@click.option("--mail-user", default="vmail", show_default=True,
              help="Người dùng hệ thống sở hữu thư / system user owning the mail folders")
@click.option("--auth-bind/--no-auth-bind", default=True, show_default=True,
              help="Dovecot kiểm tra mật khẩu bằng LDAP bind / Dovecot checks passwords by LDAP bind")
@pass_services
def mailserver_config(services: Services, kind: str, output: Path | None, mail_user: str, auth_bind: bool) -> None:
    """Cấu hình LDAP cho Postfix/Dovecot / LDAP configuration for Postfix or Dovecot."""
    result = generate(services.settings, services.client, kind, output, mail_user=mail_user, auth_bind=auth_bind)
    if output is None:
        for name, text in result.files.items():
            click.echo(f"# ===== {name} =====")
            click.echo(text)
    else:
        for path in result.written:
            click.echo(f"đã ghi / wrote {path}")
    for warning in result.warnings:
        click.echo(f"Cảnh báo: {warning.render('vi')}", err=True)
        click.echo(f"Warning: {warning.render('en')}", err=True)
