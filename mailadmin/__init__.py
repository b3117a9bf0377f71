"""mailadmin: provisioning of a Vietnamese province's official mail, backed by OpenLDAP.

Importing the package loads neither Flask nor the directory client, so the SMTP service and the CLI
start light; `create_app` (what `flask --app mailadmin` and `mailadmin serve` call) imports the web
layer when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from mailadmin.settings import Settings


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """The web admin (settings, directory services, login, blueprints) with the CLI's groups on `app.cli`."""
    from mailadmin.cli import register_flask_commands
    from mailadmin.web import create_app as create_web_app

    app = create_web_app(test_config, settings)
    register_flask_commands(app)
    return app
