"""mailadmin: provisioning of a Vietnamese province's official mail, backed by OpenLDAP."""

from __future__ import annotations

from typing import Any

from flask import Flask

from mailadmin.settings import Settings, load_settings


def create_app(test_config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """The web admin: settings, directory services, login, blueprints, CLI."""
    from mailadmin.resources import project_path
    from mailadmin.web import init_app

    settings = settings or load_settings()
    app = Flask(__name__, template_folder=str(project_path("templates")),
                static_folder=str(project_path("static")))
    init_app(app, settings, test_config or {})
    return app
