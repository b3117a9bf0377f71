"""`mailadmin serve`: the web admin."""

from __future__ import annotations

import click

from mailadmin.cli import Context, pass_context


@click.command()
@click.option("--host", default=None, help="Default: web.host from the config (127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: web.port (5000).")
@pass_context
def serve(context: Context, host: str | None, port: int | None) -> None:
    """Run the web admin (Flask's threaded server, for loopback and small installations)."""
    from mailadmin import create_app
    from mailadmin.web import freeze_startup_heap

    settings = context.settings
    app = create_app(settings=settings)
    freeze_startup_heap()
    app.run(host=host or settings.web.host, port=port or settings.web.port, threaded=True,
            use_reloader=False)
