"""`mailadmin serve`: the web admin under waitress (a production WSGI server: one process, threads)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

import click

from mailadmin.cli import Context, pass_context
from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.logs import configure_logging

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Default: web.host from the config (127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: web.port (5000).")
@click.option("--threads", type=click.IntRange(1, 256), default=None, help="Default: web.threads (8).")
@pass_context
def serve(context: Context, host: str | None, port: int | None, threads: int | None) -> None:
    """Run the web admin until SIGTERM or Ctrl-C (then close its directory connections and exit 0)."""
    from waitress.server import create_server

    from mailadmin import create_app
    from mailadmin.web import freeze_startup_heap
    from mailadmin.web.cert_signin import behind_proxy

    settings = context.settings
    configure_logging(settings)  # error pages' correlation ids, with tracebacks; text or JSON (log.format)
    app = create_app(settings=settings)
    try:
        server = create_server(behind_proxy(app, settings.web.trusted_proxy), host=host or settings.web.host,
                               port=port or settings.web.port, threads=threads or settings.web.threads,
                               ident="mailadmin", clear_untrusted_proxy_headers=False)  # behind_proxy does
    except OSError as exc:
        raise ConfigError(t("Không mở được cổng {host}:{port}: {e}", "cannot listen on {host}:{port}: {e}",
                            host=host or settings.web.host, port=port or settings.web.port,
                            e=exc.strerror or exc)) from exc
    freeze_startup_heap()
    signal.signal(signal.SIGTERM, _interrupt)
    # one listening address: a TcpWSGIServer (waitress types it as any of its server kinds)
    listening = f"{getattr(server, 'effective_host', host)}:{getattr(server, 'effective_port', port)}"
    log.info("Web admin on http://%s/ (%d threads)", listening, threads or settings.web.threads)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        app.extensions["mailadmin"].close()
    sys.exit(0)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
