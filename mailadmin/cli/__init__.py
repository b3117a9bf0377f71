"""The `mailadmin` command: thin commands over the same services the web app uses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import update_wrapper
from pathlib import Path
from typing import Any, TypeVar

import click

from mailadmin.cli.failures import explain_usage, fail, fail_unexpected
from mailadmin.errors import MailadminError
from mailadmin.settings import Settings, load_settings
from mailadmin.wiring import Services, open_services

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
            self._services = None

    def state_dir(self) -> Path | None:
        """The state folder, if the settings loaded (for the error log)."""
        return self._settings.state_dir if self._settings is not None else None


pass_context = click.make_pass_decorator(Context, ensure=True)


def pass_services(function: F) -> F:
    """Give a command the Services as its first argument."""
    @pass_context
    def wrapper(context: Context, *args: Any, **kwargs: Any) -> Any:
        return function(context.services, *args, **kwargs)
    return update_wrapper(wrapper, function)  # type: ignore[return-value]


__all__ = ["Context", "MailadminCommand", "MailadminGroup", "fail", "main", "pass_context", "pass_services"]


def run_guarded(ctx: click.Context, call: Callable[[], Any]) -> Any:
    """Run a command: every error becomes a bilingual line and an exit code, never a traceback."""
    try:
        return call()
    except MailadminError as error:
        fail(error)
    except KeyboardInterrupt:
        click.echo("Đã dừng (interrupted)", err=True)
        sys.exit(130)
    except click.UsageError as error:
        explain_usage(error)
        raise  # click prints the usage and its English message itself
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as error:
        context = ctx.find_object(Context)
        fail_unexpected(error, context.state_dir() if context is not None else None)
    finally:
        context = ctx.find_object(Context)
        if context is not None:
            context.close()


class MailadminGroup(click.Group):
    """A group whose commands end in a bilingual line and an exit code (also under `flask --app mailadmin`)."""

    def invoke(self, ctx: click.Context) -> Any:
        return run_guarded(ctx, lambda: super(MailadminGroup, self).invoke(ctx))


class MailadminCommand(click.Command):
    """A stand-alone command with the same error handling (for Flask's CLI, which has none of ours)."""

    def invoke(self, ctx: click.Context) -> Any:
        return run_guarded(ctx, lambda: super(MailadminCommand, self).invoke(ctx))


@click.group(cls=MailadminGroup)
@click.version_option(package_name="mailadmin")
@click.pass_context
def main(ctx: click.Context) -> None:
    """mailadmin: thư điện tử công vụ / official mail provisioning."""
    ctx.ensure_object(Context)


def register_commands() -> None:
    """Attach every sub-command group (also used by the Flask app's CLI)."""
    from mailadmin.cli import bulk as bulk_actions
    from mailadmin.cli import certs, demo, directory, importer, mailbox, mailserver, reorg, serve, smtpd, stats, units
    from mailadmin.cli import deploy as deployment
    from mailadmin.cli import role as roles
    from mailadmin.cli import token as tokens

    for command in (directory.directory, mailbox.mailbox, units.units, stats.stats, demo.demo,
                    serve.serve, certs.cert, importer.import_group, importer.export,
                    smtpd.smtpd, smtpd.notify, mailserver.mailserver_config, roles.role, deployment.deploy_config,
                    reorg.reorg, bulk_actions.bulk, tokens.token):
        main.add_command(command)


def register_flask_commands(app: Any) -> None:
    """The groups `flask --app mailadmin …` carries too (they handle their errors themselves)."""
    from mailadmin.cli import directory, mailbox, stats, units

    for command in (directory.directory, mailbox.mailbox, units.units, stats.stats):
        app.cli.add_command(command)


register_commands()
