"""`mailadmin deploy-config systemd|nginx [-o DIR]`: unit files and an HTTPS site for a production server."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from mailadmin.cli import Context, pass_context
from mailadmin.deploy import KINDS, PLACEHOLDER_CERT, PLACEHOLDER_KEY, DeployOptions, render, write


def default_program() -> str:
    """The `mailadmin` program of this installation (the venv's, else the one on PATH)."""
    beside = Path(sys.executable).with_name("mailadmin")
    return str(beside) if beside.is_file() else shutil.which("mailadmin") or str(beside)


@click.command("deploy-config")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Thư mục ghi tệp / folder to write the files to; default: print them.")
@click.option("--instances", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Số tiến trình web (cổng liên tiếp từ web.port) / web processes on consecutive ports from web.port.")
@click.option("--user", default="mailadmin", show_default=True, help="systemd: system user running the services.")
@click.option("--mailadmin-bin", default=default_program, show_default=True, help="systemd: the mailadmin program.")
@click.option("--server-name", default="", help="nginx: host name (default quantri.<mail domain>).")
@click.option("--tls-cert", default=PLACEHOLDER_CERT, show_default=True, help="nginx: certificate chain (PEM).")
@click.option("--tls-key", default=PLACEHOLDER_KEY, show_default=True, help="nginx: private key (PEM).")
@click.option("--listen-address", default="", help="nginx: one address to listen on (default: all).")
@click.option("--https-port", type=click.IntRange(1, 65535), default=443, show_default=True)
@click.option("--http-port", type=click.IntRange(0, 65535), default=80, show_default=True,
              help="nginx: port redirecting to HTTPS (0: none).")
@pass_context
def deploy_config(context: Context, kind: str, output: Path | None, **options: object) -> None:
    """Tệp triển khai / deployment files: systemd units or an nginx HTTPS site."""
    if output is not None:  # nginx reads the client CA and CRL files where they are written
        options["files_dir"] = str(output.resolve())
    rendered = render(kind, context.settings, DeployOptions(**options), os.environ)  # type: ignore[arg-type]
    if output is None:
        for name, text in rendered.files.items():
            click.echo(f"# ===== {name} =====\n{text}")
    else:
        for path in write(rendered.files, output):
            click.echo(f"đã ghi / wrote {path}")
    for warning in rendered.warnings:
        click.echo(f"Cảnh báo: {warning.render('vi')}", err=True)
        click.echo(f"Warning: {warning.render('en')}", err=True)
