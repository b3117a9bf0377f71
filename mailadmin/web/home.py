"""The home page: a first look at the province's numbers."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from mailadmin.services.stats import mailbox_stats
from mailadmin.web import services

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index() -> str:
    numbers = mailbox_stats(services().mailboxes.store)
    return render_template("home/index.html", user=current_user, stats=numbers)
