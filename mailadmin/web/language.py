"""Languages of the web admin: Vietnamese by default, English selectable; catalogs compiled at start.

The messages are Vietnamese in the templates (msgid) and translated in
mailadmin/translations/<lang>/LC_MESSAGES/messages.po. The .po files are compiled to .mo into the
state folder when the app starts (and whenever a .po is newer), so a clean clone needs no build step
and no generated file is committed.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from mailadmin.i18n import DEFAULT_LANGUAGE, LANGUAGES, Text
from mailadmin.web.redirects import safe_next

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
bp = Blueprint("language", __name__)


def compile_catalogs(source: Path, target: Path) -> None:
    """Compile every <lang>/LC_MESSAGES/messages.po below source into target (only when stale)."""
    for po_path in source.glob("*/LC_MESSAGES/messages.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with open(po_path, "rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        temporary = mo_path.with_suffix(".tmp")
        with open(temporary, "wb") as handle:
            write_mo(handle, catalog)
        temporary.replace(mo_path)


def current_language() -> str:
    """The page language: the person's choice in the session, else Vietnamese."""
    language = session.get("lang", DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def say(text: Text) -> str:
    """A bilingual message from below the web layer, in the page language."""
    return text.render(str(get_locale() or DEFAULT_LANGUAGE))


def init_app(app: Flask, state_dir: Path) -> None:
    """Flask-Babel with catalogs compiled into the state folder."""
    compiled = state_dir / "translations"
    compile_catalogs(CATALOGS, compiled)
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE, BABEL_TRANSLATION_DIRECTORIES=str(compiled),
                      BABEL_DEFAULT_TIMEZONE="Asia/Ho_Chi_Minh")
    Babel(app, locale_selector=current_language)
    app.context_processor(lambda: {"lang": current_language()})
    app.register_blueprint(bp)


@bp.route("/lang/<code>")
def choose(code: str) -> Response:
    """Remember the chosen language and go back to the page (local paths only)."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), "/"))
