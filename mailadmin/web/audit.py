"""The audit log, read-only: filters (dates, actor, action, unit, target), pages, CSV export.

Super admins and auditors read it; nobody edits it. A mailbox's page links to its own history.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask_login import login_required

from mailadmin.audit import AuditEntry, AuditQuery
from mailadmin.excel_csv import excel_csv
from mailadmin.model import Role
from mailadmin.web import services
from mailadmin.web.display import vndate
from mailadmin.web.guard import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50
MAX_FILTER = 100
TEXT_FILTERS = ("action", "actor", "target", "subject", "unit")
CSV_HEADERS = ("Lúc (At, GMT+7)", "Ai (Actor)", "Thao tác (Action)", "Đối tượng (Target)", "Trước (Before)",
               "Sau (After)")


def _day(name: str) -> str:
    """A date filter as YYYY-MM-DD, or '' when absent or not a date."""
    value = (request.args.get(name) or "").strip()[:10]
    try:
        return date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


def _query() -> AuditQuery:
    texts = {name: (request.args.get(name) or "").strip().lower()[:MAX_FILTER] for name in TEXT_FILTERS}
    texts["unit"] = (request.args.get("unit") or "").strip()[:MAX_FILTER]
    return AuditQuery(**texts, since=_day("since"), until=_day("until"))


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


@bp.route("")
@login_required
@roles_required(Role.SUPERADMIN, Role.AUDITOR)
def index() -> str:
    query = _query()
    found = services().audit.search(query)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(_page(), pages)
    shown = found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    actions = sorted({entry.action for entry in found} | ({query.action} if query.action else set()))
    return render_template("audit/index.html", entries=shown, total=len(found), query=query, page=page,
                           pages=pages, actions=actions, filters=_filters(query))


def _filters(query: AuditQuery) -> dict[str, str]:
    """The query as URL parameters (for the pager and the CSV link)."""
    return {name: value for name, value in vars(query).items() if value}


@bp.route("/export.csv")
@login_required
@roles_required(Role.SUPERADMIN, Role.AUDITOR)
def export() -> Response:
    """Every matching entry as CSV for Excel (UTF-8 BOM, formula-safe cells), newest first."""
    rows = [CSV_HEADERS, *(_row(entry) for entry in services().audit.search(_query()))]
    return Response(excel_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=nhat-ky.csv"})


def _row(entry: AuditEntry) -> list[str]:
    return [vndate(entry.at), entry.actor, entry.action, entry.target, _side(entry.before), _side(entry.after)]


def _side(values: dict[str, object]) -> str:
    return "; ".join(f"{key}={'' if value is None else value}" for key, value in values.items())
