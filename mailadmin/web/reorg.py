"""Reorganisation in the browser (super admins): upload a plan, review its preview, apply with live progress, undo."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.errors import InvalidInput, MailadminError
from mailadmin.i18n import t
from mailadmin.importer.journal import Job
from mailadmin.importer.reorgfile import MAX_PLAN_BYTES
from mailadmin.services.authz import require
from mailadmin.web import services, workers
from mailadmin.web.guard import principal
from mailadmin.web.language import say

bp = Blueprint("reorg", __name__, url_prefix="/reorg")
SHOWN_CONFLICTS = 100


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """`may_reorganise()` for the menu: only super admins see the link."""
    def may_reorganise() -> bool:
        try:
            return principal().may_reorganise()
        except MailadminError:
            return False
    return {"may_reorganise": may_reorganise}


@bp.before_request
@login_required
def _super_admins_only() -> None:
    require(principal().may_reorganise())


@bp.route("")
def index() -> str:
    return render_template("reorg/upload.html")


@bp.route("", methods=["POST"])
def upload() -> Response | tuple[str, int]:
    """Check and plan the uploaded file and journal it (nothing is written to the directory)."""
    upload_file = request.files.get("file")
    try:
        if upload_file is None or not upload_file.filename:
            raise InvalidInput(t("Hãy chọn một tệp kế hoạch YAML", "choose a YAML plan file"), "file")
        preview = services().reorg.preview(upload_file.stream.read(MAX_PLAN_BYTES + 1), upload_file.filename)
        if preview.reorg.problems:
            return _preview_page(None, preview.summary()), 400
        job = services().reorg.start(preview)
    except MailadminError as error:
        flash(say(error.message), "error")
        return render_template("reorg/upload.html"), 400
    job.save({**job.meta(), "owner": principal().uid})
    return redirect(url_for("reorg.show", job_id=job.id))


@bp.route("/<job_id>")
def show(job_id: str) -> str:
    """The preview before confirmation; the progress after."""
    job = services().reorg.job(job_id)
    meta = job.meta()
    if meta["state"] == "planned" and not workers.running(job.id):
        return _preview_page(job, meta["preview"])
    return render_template("reorg/progress.html", job=job, meta=meta, status=_status(job))


def _preview_page(job: Job | None, summary: dict[str, Any]) -> str:
    conflicts = [(c["line"], c["key"], say(t("{vi}", "{en}", vi=c["vi"], en=c["en"]))) for c in summary["conflicts"]]
    return render_template("reorg/preview.html", job=job, summary=summary, conflicts=conflicts[:SHOWN_CONFLICTS])


@bp.route("/<job_id>/confirm", methods=["POST"])
def confirm(job_id: str) -> Response:
    """Apply (or resume) the job in the background; the journal makes it durable."""
    job = services().reorg.job(job_id)
    if job.state in ("planned", "applying"):
        app_services = services()
        workers.start(job.id, lambda: app_services.reorg.apply(job), f"reorg-{job.id}")
    else:
        flash(say(t("Công việc này đã xong", "this job is finished already")), "error")
    return redirect(url_for("reorg.show", job_id=job.id))


@bp.route("/<job_id>/undo", methods=["POST"])
def undo(job_id: str) -> Response:
    """Undo a finished (or resume an interrupted undo) in the background."""
    job = services().reorg.job(job_id)
    if job.state in ("done", "undoing"):
        app_services = services()
        workers.start(job.id, lambda: app_services.reorg.undo(job.id), f"reorg-undo-{job.id}")
    else:
        flash(say(t("Chỉ hoàn tác được công việc đã xong", "only a finished job can be undone")), "error")
    return redirect(url_for("reorg.show", job_id=job.id))


def _status(job: Job) -> dict[str, Any]:
    status = services().reorg.status(job.id)
    undoing = status["state"] in ("undoing", "undone")
    total = sum((status["writes"] or {}).values())
    failure = workers.failure(job.id)
    return {"state": status["state"], "total": status["done"] if undoing else total,
            "done": status["undone"] if undoing else status["done"] + len(status["failed"]),
            "counts": status["writes"] or {}, "running": workers.running(job.id),
            "failure": say(failure) if failure else "", "results": status["state"] == "done",  # the undo button
            "failed": status["failed"]}


@bp.route("/<job_id>/status")
def status(job_id: str) -> Response:
    """Small JSON for the progress page's polling."""
    return jsonify(_status(services().reorg.job(job_id)))
