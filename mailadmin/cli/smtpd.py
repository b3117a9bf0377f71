"""`mailadmin smtpd`: the SMTP service; `mailadmin notify`: welcome and reminder mails."""

from __future__ import annotations

import asyncio

import click

from mailadmin.cli import Context, pass_context, pass_services
from mailadmin.errors import DirectoryUnavailable
from mailadmin.logs import configure_logging
from mailadmin.smtp.config import ensure_account, mail_routing, smtp_config
from mailadmin.smtp.server import Listening, SmtpService, serve_until_signalled
from mailadmin.smtp.workers import Supervisor
from mailadmin.wiring import Services


@click.command("smtpd")
@pass_context
def smtpd(context: Context) -> None:
    """Chạy dịch vụ SMTP / run the SMTP service (inbound + submission) until Ctrl-C."""
    settings = context.settings
    configure_logging(settings)
    try:
        ensure_account(settings, context.services.client)
    except DirectoryUnavailable as error:  # serve anyway: 4xx answers until the directory is back
        click.echo(f"Cảnh báo / warning: {error.message.both()}", err=True)
    config = smtp_config(settings)

    def ready(ports: Listening) -> None:
        click.echo(f"SMTP inbound:    smtp://{config.host}:{ports.port}  (mail for @{config.domain}, no relay)")
        click.echo(f"SMTP submission: smtp://{config.host}:{ports.submission_port}  (STARTTLS, then AUTH)")
        click.echo(f"Maildirs:        {config.spool}/<uid>/")
        if ports.metrics_port:
            click.echo(f"Metrics:         http://{config.host}:{ports.metrics_port}/metrics")
        if config.workers > 1:
            click.echo(f"Workers:         {config.workers} processes, pids {' '.join(map(str, supervisor.pids()))}")
    if config.workers > 1:
        supervisor = Supervisor(settings, config, report=lambda line: click.echo(line, err=True))
        code = supervisor.run(ready)
        click.echo("Đã dừng dịch vụ SMTP (SMTP service stopped)")
        if code:
            raise SystemExit(code)
        return
    routing = mail_routing(settings)
    try:
        asyncio.run(serve_until_signalled(SmtpService(config, routing), ready))
    finally:
        routing.close()
    click.echo("Đã dừng dịch vụ SMTP (SMTP service stopped)")


@click.group("notify")
def notify() -> None:
    """Thư chào mừng và nhắc nhở / welcome and reminder mails."""


@notify.command("welcome")
@click.argument("uids", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@pass_services
def welcome(services: Services, uids: tuple[str, ...], lang: str) -> None:
    """Gửi thư chào mừng / send the welcome mail to new mailboxes."""
    for uid in uids:
        click.echo(f"→ {services.notifier.send('welcome', uid, lang)}")


@notify.command("reminder")
@click.argument("uids", nargs=-1, required=True)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@pass_services
def reminder(services: Services, uids: tuple[str, ...], lang: str) -> None:
    """Nhắc đổi mật khẩu lần đầu / remind owners to change their first password."""
    for uid in uids:
        click.echo(f"→ {services.notifier.send('reminder', uid, lang)}")
