"""Bulk import in the browser: upload, preview of the plan, confirm, live progress, results once."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from mailadmin.errors import InvalidInput, MailadminError, PermissionDenied
from mailadmin.i18n import t
from mailadmin.importer.export import template_csv
from mailadmin.importer.journal import Job
from mailadmin.importer.plan import WRITES, Action, Outcome, PlanOptions, comparable
from mailadmin.importer.report import handover_rows, who
from mailadmin.importer.service import RESULTS_FILE, Preview
from mailadmin.model import Role
from mailadmin.services.authz import require, wider_rights_message
from mailadmin.web import services, workers
from mailadmin.web.guard import owned_job as owned_job_of
from mailadmin.web.guard import principal, roles_required, unit_by_code
from mailadmin.web.handover import sheet as handover_sheet
from mailadmin.web.language import say
from mailadmin.wiring import Services

log = logging.getLogger(__name__)
bp = Blueprint("imports", __name__, url_prefix="/imports")
IMPORTERS = (Role.SUPERADMIN, Role.UNITADMIN, Role.HR)
SHOWN_ROWS = 500  # a preview of a large file lists this many rows; the rest are in the counts


@bp.app_context_processor
def _navigation() -> dict[str, Any]:
    """`may_import_files()` for the menu: HR officers and admins see the import link."""
    def may_import_files() -> bool:
        try:
            return principal().has(*IMPORTERS)
        except MailadminError:
            return False
    return {"may_import_files": may_import_files}


def import_scope() -> tuple[str, ...] | None:
    """Unit codes the person's file may touch (None: everything, for super admins)."""
    person = principal()
    if person.has(Role.SUPERADMIN):
        return None
    require(bool(person.scopes))
    return tuple(scope[-1] for scope in person.scopes)


def owned_job(job_id: str) -> Job:
    """A job the person started (super admins see all); others' jobs do not exist for them."""
    missing = t("Không có công việc nhập {job}", "no import job {job}", job=job_id)
    return owned_job_of(services().imports.job(job_id), missing)


@bp.route("")
@login_required
@roles_required(*IMPORTERS)
def index() -> str:
    import_scope()
    return _upload_page()


def _upload_page() -> str:
    return render_template("imports/upload.html", max_mib=upload_limit_mib(),
                           max_rows=services().settings.imports.max_rows)


def upload_limit_mib() -> int:
    """The largest upload: imports.max_file_mib, or the app's request limit when that is lower."""
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    file_limit = services().settings.imports.max_file_mib
    return min(file_limit, request_limit // (1024 * 1024)) if request_limit else file_limit


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    """A request above the limit is refused with the limit named, never truncated."""
    message = t("Tệp lớn hơn {n} MB; không nhập gì. Hãy chia nhỏ tệp",
                "the file is larger than {n} MB; nothing imported. Split it", n=upload_limit_mib())
    return render_template("errors/error.html", status=413, message=message), 413


@bp.route("/template.csv")
@login_required
@roles_required(*IMPORTERS)
def template() -> Response:
    return Response(template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=mau-nhap-nhan-su.csv"})


@bp.route("", methods=["POST"])
@login_required
@roles_required(*IMPORTERS)
def upload() -> Response | tuple[str, int]:
    """Plan the uploaded file and journal it (nothing is written to the directory)."""
    scope = import_scope()
    upload_file = request.files.get("file")
    all_or_nothing = request.form.get("all_or_nothing") == "1"
    welcome = request.form.get("welcome") or None
    try:
        preview = _preview(upload_file, scope)
        if all_or_nothing and preview.plan.errors:
            flash(say(t("Có {n} dòng lỗi: không nhập gì (tất cả hoặc không)",
                        "{n} rows have errors: nothing imported (all or nothing)", n=len(preview.plan.errors))),
                  "error")
            return _render_preview(None, preview.plan.actions, preview.file_name), 400
        job = services().imports.start(preview, all_or_nothing=all_or_nothing, welcome=welcome)
    except MailadminError as error:
        flash(say(error.message), "error")
        return _upload_page(), 400
    job.save({**job.meta(), "owner": principal().uid})
    return redirect(url_for("imports.show", job_id=job.id))


def _preview(upload_file: Any, scope: tuple[str, ...] | None) -> Preview:
    imports = services().imports
    if upload_file is None or not upload_file.filename:
        raise _missing_file()
    limit = imports.settings.imports.max_file_mib * 1024 * 1024
    data = upload_file.stream.read(limit + 1)
    imports.check_size(len(data))
    if not data:
        raise _missing_file()
    options = PlanOptions(scope=scope, retention_days=services().settings.mailboxes.retention_days,
                          protected=services().mailboxes.protected_from(principal()),
                          may_lock_out=principal().may_lock_out)
    return imports.preview(data, upload_file.filename, options=options)


def _missing_file() -> MailadminError:
    return InvalidInput(t("Hãy chọn một tệp CSV hoặc YAML", "choose a CSV or YAML file"), "file")


@bp.route("/<job_id>")
@login_required
@roles_required(*IMPORTERS)
def show(job_id: str) -> str:
    """The plan before confirmation; the progress and the report after."""
    job = owned_job(job_id)
    meta = job.meta()
    if meta["state"] == "planned" and not _running(job.id):
        for note in meta.get("notes", []):
            flash(say(t("{vi}", "{en}", vi=note["vi"], en=note["en"])), "info")
        return _render_preview(job, list(job.actions()), meta.get("file", ""))
    refused = [_row(a) for a in job.actions() if a.outcome is Outcome.ERROR][:SHOWN_ROWS]  # whom, and why
    return render_template("imports/progress.html", job=job, meta=meta, status=_status(job), refused=refused)


def _render_preview(job: Job | None, actions: list[Action], file_name: str) -> str:
    counts: dict[str, int] = {outcome.value: 0 for outcome in Outcome}
    for action in actions:
        counts[action.outcome.value] += 1
    listed = [a for a in actions if a.outcome is not Outcome.UNCHANGED]
    rows = [_row(a) for a in listed[:SHOWN_ROWS]]
    return render_template("imports/preview.html", job=job, counts=counts, rows=rows, file_name=file_name,
                           hidden=max(0, len(listed) - SHOWN_ROWS), writes=sum(counts[o.value] for o in WRITES))


def _row(action: Action) -> dict[str, Any]:
    """One plan row for the page: who, what happens, the field diff or the error in the page language."""
    before = comparable(action.before) if action.before else {}
    after = comparable(action.after) if action.after else {}
    error = action.error
    name, unit, mail = who(action)
    return {"line": action.line or "", "hr_id": action.hr_id, "outcome": action.outcome.value,
            "name": name, "mail": mail, "unit": unit,
            "diff": [(name, _text(before.get(name)), _text(after.get(name))) for name in action.changes],
            "column": error.column if error else "", "error": say(error.message) if error else "",
            "warnings": [say(warning.message) for warning in action.warnings]}


def _text(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


@bp.route("/<job_id>/confirm", methods=["POST"])
@login_required
@roles_required(*IMPORTERS)
def confirm(job_id: str) -> Response:
    """Apply (or resume) the job in a background thread; the journal makes it durable."""
    job = owned_job(job_id)
    if job.state not in ("planned", "applying"):
        flash(say(t("Công việc này đã xong", "this job is finished already")), "error")
    else:
        require_rights_for(job)
        _start_worker(services(), job)
    return redirect(url_for("imports.show", job_id=job.id))


def require_rights_for(job: Job) -> None:
    """PermissionDenied unless the person may still make every write of the job.

    The plan was checked against the uploader's rights at upload; a scope revoked or a colleague
    made an administrator since must not be written through it.
    """
    person = principal()
    protected = services().mailboxes.protected_from(person)
    for action in job.actions():
        if action.outcome in WRITES:
            for code in {m.unit_code for m in (action.before, action.after) if m is not None}:
                unit = unit_by_code(code)
                require(person.may_import(unit), unit)
            if action.uid in protected:
                raise PermissionDenied(wider_rights_message(action.uid))


def _start_worker(app_services: Services, job: Job) -> None:
    workers.start(job.id, lambda: app_services.imports.apply(job), f"import-{job.id}")


def _running(job_id: str) -> bool:
    return workers.running(job_id)


def _status(job: Job) -> dict[str, Any]:
    status = services().imports.status(job.id)
    counts = status["counts"]
    total = sum(counts.get(outcome.value, 0) for outcome in WRITES) + counts.get("failed", 0) \
        + counts.get("pending", 0)
    failure = workers.failure(job.id)
    return {"state": status["state"], "counts": counts, "total": total, "done": total - counts.get("pending", 0),
            "running": _running(job.id), "failure": say(failure) if failure else "",
            "results": (job.folder / RESULTS_FILE).is_file(), "failed": status["failed"],
            "welcomed": len(job.welcomed())}


@bp.route("/<job_id>/status")
@login_required
@roles_required(*IMPORTERS)
def status(job_id: str) -> Response:
    """Small JSON for the progress page's polling."""
    return jsonify(_status(owned_job(job_id)))


@bp.route("/<job_id>/results", methods=["POST"])
@login_required
@roles_required(*IMPORTERS)
def results(job_id: str) -> Response:
    """The results CSV with the initial passwords, handed out once."""
    job = owned_job(job_id)
    data = services().imports.take_results(job.id)
    handover = request.form.get("as") == "handover"
    services().audit.record("import.handover" if handover else "import.results", job.id,
                            after={"taken_by": principal().uid})
    if handover:
        return _handover_sheet(job, data)
    return Response(data, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=ket-qua-{job.id}.csv"})


def _handover_sheet(job: Job, results: bytes) -> Response:
    """A printable sheet per unit of the new officials, their addresses and initial passwords (shown once)."""
    return Response(handover_sheet(handover_rows(results), job.id), mimetype="text/html")
