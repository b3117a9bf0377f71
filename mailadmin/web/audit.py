"""The audit log, read-only and filterable: super admins and auditors read it, nobody edits it."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from mailadmin.model import Role
from mailadmin.web import services
from mailadmin.web.guard import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
MAX_SHOWN = 500


@bp.route("")
@login_required
@roles_required(Role.SUPERADMIN, Role.AUDITOR)
def index() -> str:
    wanted = {name: (request.args.get(name) or "").strip().lower()[:100] for name in ("action", "actor", "target")}
    matching = [entry for entry in services().audit.entries()
                if all(value in getattr(entry, name).lower() for name, value in wanted.items() if value)]
    return render_template("audit/index.html", entries=list(reversed(matching[-MAX_SHOWN:])), total=len(matching),
                           wanted=wanted, shown=MAX_SHOWN)
