"""A handover sheet for a selection of mailboxes (the import's sheet, for accounts made one by one or before).

Initial passwords are never stored, so a sheet for chosen mailboxes gives them new ones (an admin reset:
the owner must change it at the first login). The selection is confirmed on a page of its own that names
who already uses their mailbox; the sheet is the answer to that form, shown once: a resent form (F5, back
button) resets nothing and prints nothing (its submission id), like the import's results.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.importer.report import Handover
from mailadmin.model import Mailbox, Role, Status
from mailadmin.web import services
from mailadmin.web.guard import managed_mailbox, roles_required
from mailadmin.web.once import earlier_result, new_submission, remember_result
from mailadmin.web.redirects import safe_next

bp = Blueprint("handover", __name__, url_prefix="/handover")
ADMINS = (Role.SUPERADMIN, Role.UNITADMIN)
MAX_SELECTION = 200  # the list's bulk form sends at most four pages of 50


def _selection() -> list[Mailbox]:
    """The chosen mailboxes, each one the person may change (403 for the whole selection otherwise)."""
    uids = dict.fromkeys(uid.strip().lower() for uid in request.values.getlist("uid") if uid.strip())
    return [managed_mailbox(uid) for uid in list(uids)[:MAX_SELECTION]]


@bp.route("")
@login_required
@roles_required(*ADMINS)
def confirm() -> str:
    """Who will get a new initial password, who is left out (not active), and who already logged in."""
    chosen = _selection()
    active = [m for m in chosen if m.status is Status.ACTIVE]
    last_login = {m.uid: services().mailboxes.lock_state(m.uid).last_login for m in active}
    return render_template("mailboxes/handover_confirm.html", active=active, last_login=last_login,
                           skipped=[m for m in chosen if m.status is not Status.ACTIVE], submission=new_submission(),
                           back=safe_next(request.args.get("back"), "/mailboxes"), units=services().units.index().units)


@bp.route("", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def make() -> tuple[str, int] | Response:
    """New initial passwords for the active ones of the selection, printed once per unit, audited."""
    chosen = [m for m in _selection() if m.status is Status.ACTIVE]
    submission = request.form.get("submission", "")
    if not chosen or earlier_result(submission):
        return render_template("mailboxes/handover_confirm.html", already_printed=True), 409
    chosen.sort(key=lambda m: (m.unit_code, m.name.full))
    rows = [Handover(m.unit_code, m.name.full, m.mail, services().mailboxes.reset_password(m.uid) or "")
            for m in chosen]
    remember_result(submission, "handover")
    services().audit.record_many([("mailbox.handover", m.uid, None, {"unit_code": m.unit_code}) for m in chosen])
    return Response(sheet(rows, None), mimetype="text/html")


def sheet(rows: list[Handover], job_id: str | None) -> str:
    """The printable handover sheet (an import's or a selection's), one section and printed page per unit."""
    by_unit: dict[str, list[Handover]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_code, []).append(row)
    settings = services().settings
    return render_template("imports/handover.html", job_id=job_id, by_unit=by_unit,
                           units=services().units.index().units, login_url=request.host_url,
                           clients=settings.mail_clients, default_host=f"mail.{settings.organisation.mail_domain}")
