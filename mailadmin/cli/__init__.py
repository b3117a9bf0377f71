"""The `mailadmin` command: thin commands over the same services the web app uses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar

import click

from mailadmin.errors import MailadminError
from mailadmin.services.context import Services, open_services
from mailadmin.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every command shares: settings and, when needed, the services."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def services(self) -> Services:
        if self._services is None:
            self._services = open_services(self.settings)
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()


pass_context = click.make_pass_decorator(Context, ensure=True)


def pass_services(function: F) -> F:
    """Give a command the Services as its first argument."""
    @pass_context
    def wrapper(context: Context, *args: Any, **kwargs: Any) -> Any:
        return function(context.services, *args, **kwargs)
    return update_wrapper(wrapper, function)  # type: ignore[return-value]


def fail(error: MailadminError) -> None:
    """Print a domain error in Vietnamese and English and exit with its code."""
    click.echo(f"Lỗi: {error.message.render('vi')}", err=True)
    click.echo(f"Error: {error.message.render('en')}", err=True)
    sys.exit(error.exit_code)


class MailadminGroup(click.Group):
    """A group that turns domain errors into clean messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MailadminError as error:
            fail(error)
        except KeyboardInterrupt:
            click.echo("Đã dừng (interrupted)", err=True)
            sys.exit(130)
        finally:
            context = ctx.find_object(Context)
            if context is not None:
                context.close()


@click.group(cls=MailadminGroup)
@click.version_option(package_name="mailadmin")
@click.pass_context
def main(ctx: click.Context) -> None:
    """mailadmin: thư điện tử công vụ / official mail provisioning."""
    ctx.ensure_object(Context)


def register_commands() -> None:
    """Attach every sub-command group (also used by the Flask app's CLI)."""
    from mailadmin.cli import certs, demo, directory, importer, mailbox, mailserver, serve, smtpd, stats, units
    from mailadmin.cli import deploy as deployment
    from mailadmin.cli import role as roles

    for command in (directory.directory, mailbox.mailbox, units.units, stats.stats, demo.demo,
                    serve.serve, certs.cert, importer.import_group, importer.export,
                    smtpd.smtpd, smtpd.notify, mailserver.mailserver_config, roles.role, deployment.deploy_config):
        main.add_command(command)


register_commands()
