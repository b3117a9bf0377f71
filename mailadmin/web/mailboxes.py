"""Mailbox pages: list and search (server-side paging and sorting), create, edit, lifecycle, bulk."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from mailadmin.errors import MailadminError, PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.importer.bulk import ACTIONS as BULK_ACTIONS
from mailadmin.importer.export import export_csv, export_xlsx, export_yaml
from mailadmin.importer.journal import Job
from mailadmin.model import Mailbox, Role, Status, Tier, Unit
from mailadmin.services.authz import require_password_reset, require_status_change
from mailadmin.services.mailboxes import LIFECYCLE, SORTABLE, MailboxQuery, NewMailbox, list_sort, rights_of
from mailadmin.services.roles import parse_role
from mailadmin.web import services, workers
from mailadmin.web.guard import (
    default_unit_code,
    managed_mailbox,
    managed_unit,
    may_change_mailbox,
    owned_job,
    principal,
    readable_mailbox,
    readable_unit,
    roles_required,
    unit_by_code,
)
from mailadmin.web.language import say
from mailadmin.web.once import earlier_result, keep_once, new_submission, remember_result, take_once
from mailadmin.web.redirects import safe_next

bp = Blueprint("mailboxes", __name__, url_prefix="/mailboxes")
Choice = TypeVar("Choice", Tier, Status)
PAGE_SIZE = 50
MAX_QUERY = 200
ADMINS = (Role.SUPERADMIN, Role.UNITADMIN)
READERS = (Role.SUPERADMIN, Role.UNITADMIN, Role.AUDITOR)
LAST_JOB = "bulk_job"  # the bulk job the list names once, with a link to its outcome and undo


def _enum(kind: type[Choice], value: str | None) -> Choice | None:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


def _query(args: Mapping[str, str] | None = None) -> MailboxQuery:
    """The list's filters from the URL (or `args`); a unit outside the person's scope is refused (403)."""
    args = request.args if args is None else args
    unit_code = (args.get("unit") or "").strip() or default_unit_code()
    if unit_code:
        readable_unit(unit_code)
    text = (args.get("q") or "")[:MAX_QUERY].replace("\x00", "")
    sort, descending = list_sort(args.get("sort"))
    return MailboxQuery(unit_code=unit_code, tier=_enum(Tier, args.get("tier")),
                        status=_enum(Status, args.get("status")), text=text, sort=sort, descending=descending)


def listed(query: MailboxQuery) -> dict[str, str]:
    """The URL parameters that rebuild a list (filters, search and order; not the page)."""
    order = ("-" if query.descending else "") + query.sort
    return {"q": query.text, "unit": query.unit_code or "", "tier": query.tier or "", "status": query.status or "",
            "sort": "" if order == "name" else order}


def managed_units() -> list[Unit]:
    """Units the person may change, in tree order."""
    person = principal()
    return [unit for unit in services().units.index().walk() if person.may_manage(unit)]


def readable_units() -> list[Unit]:
    """Units the person may read, in tree order."""
    person = principal()
    return [unit for unit in services().units.index().walk() if person.may_read(unit)]


def _page_of(query: MailboxQuery, page: int) -> tuple[list[Mailbox], int]:
    """One page of the list (1-based) and the total."""
    mailboxes, total = services().mailboxes.page(query, (page - 1) * PAGE_SIZE, PAGE_SIZE, full=False)
    return mailboxes, total


@bp.route("")
@login_required
@roles_required(*READERS)
def index() -> str:
    query = _query()
    page = _page_number()
    mailboxes, total = _page_of(query, page)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # past the end (an old link, a typed URL): show the last page instead
        page = pages
        mailboxes, total = _page_of(query, page)
    units = readable_units()
    return render_template("mailboxes/list.html", mailboxes=mailboxes, total=total, page=page, pages=pages,
                           query=query, listed=listed(query), sortable=SORTABLE,
                           units=units, unit_names={u.code: u.name for u in units},
                           tiers=list(Tier), statuses=list(Status),
                           may_manage=principal().is_admin, move_units=managed_units(),
                           submission=new_submission(), last_job=session.pop(LAST_JOB, None))


EXPORTS = {"csv": (export_csv, "text/csv", "csv"), "yaml": (export_yaml, "application/yaml", "yaml"),
           "xlsx": (export_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}


@bp.route("/export")
@login_required
@roles_required(*READERS)
def export() -> Response:
    """The listed mailboxes (same filters and scope as the page) as CSV, Excel or YAML that imports back."""
    kind = request.args.get("format", "csv")
    if kind not in EXPORTS:
        abort(404)
    query = _query()
    render, mimetype, suffix = EXPORTS[kind]
    data = render(services().mailboxes.find(query))
    services().audit.record("mailbox.export", query.unit_code or "*", after={"format": kind, "q": query.text})
    name = f"hop-thu-{query.unit_code or 'tat-ca'}.{suffix}"
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/suggest")
@login_required
@roles_required(*ADMINS)
def suggest() -> Response:
    """The address a new person with this name would get (live suggestion while typing)."""
    name = (request.args.get("name") or "")[:MAX_QUERY].replace("\x00", "")
    try:
        return jsonify(address=services().mailboxes.suggest_address(name))
    except MailadminError as error:
        return jsonify(address="", error=say(error.message))


@bp.route("/new", methods=["GET", "POST"])
@login_required
@roles_required(*ADMINS)
def create() -> str | tuple[str, int] | Response:
    """The form; a POST creates once and redirects to the result (F5 and resubmits create nothing more)."""
    form = request.form
    if request.method == "GET":
        return _new_form({"submission": new_submission()})
    earlier = earlier_result(form.get("submission", ""))
    if earlier:
        flash(say(t("Biểu mẫu này đã được gửi: hộp thư đã được tạo.", "this form was already sent: the mailbox "
                    "exists.")), "info")
        return redirect(url_for("mailboxes.show", uid=earlier))
    try:
        managed_unit(form.get("unit", ""))
        created = services().mailboxes.add(NewMailbox(
            full_name=form.get("full_name", ""), unit_code=form.get("unit", ""), mail=form.get("mail", ""),
            title=form.get("title", ""), phone=form.get("phone", ""), hr_id=form.get("hr_id", ""),
            quota_mib=_int(form.get("quota_mib")), aliases=lines_of(form.get("aliases", ""))))
    except MailadminError as error:
        if isinstance(error, PermissionDenied):
            raise
        flash(say(error.message), "error")
        return _new_form(form), 400
    remember_result(form.get("submission", ""), created.mailbox.uid)
    keep_once(created.mailbox.uid, created.initial_password, created=True)
    return redirect(url_for("mailboxes.shown_once", uid=created.mailbox.uid))


def _new_form(form: Mapping[str, str]) -> str:
    return render_template("mailboxes/new.html", form=form, units=managed_units())


@bp.route("/<uid>/once")
@login_required
@roles_required(*ADMINS)
def shown_once(uid: str) -> str:
    """The result of a create or reset: the one-time password, shown on the first visit only."""
    mailbox = managed_mailbox(uid)
    kept = take_once(mailbox.uid)
    password, created = kept if kept else (None, False)
    return render_template("mailboxes/password_once.html", mailbox=mailbox, password=password, created=created,
                           already_shown=kept is None)


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def lines_of(text: str) -> tuple[str, ...]:
    """Non-empty lines (or comma-separated items) of a text box."""
    return tuple(line.strip() for line in text.replace(",", "\n").splitlines() if line.strip())


@bp.route("/<uid>")
@login_required
@roles_required(*READERS)
def show(uid: str) -> str:
    mailbox = readable_mailbox(uid)
    unit = unit_by_code(mailbox.unit_code)
    holder = services().roles.holder(mailbox.uid)  # one read: the rights check and the page both use it
    may_manage = may_change_mailbox(mailbox, rights_of(holder))
    return render_template("mailboxes/show.html", mailbox=mailbox, unit=unit, submission=new_submission(),
                           lock=services().mailboxes.lock_state(uid),
                           usage=services().mailstore.quota_use(mailbox.uid),
                           second_factor=bool(holder and holder.second_factor), holder=holder,
                           may_give_roles=may_manage and principal().has(Role.SUPERADMIN),
                           role_choices=[role.value for role in Role], all_units=list(services().units.index().walk()),
                           unit_names_by_code={u.code: u.name for u in services().units.index().units.values()},
                           may_reset_factor=may_manage and principal().may_reset_second_factor(mailbox.uid),
                           may_reset_password=may_manage and principal().may_reset_password(mailbox.uid),
                           may_lock_out=principal().may_lock_out(mailbox.uid),
                           token=services().tokens.state(mailbox.uid) if holder and holder.roles else None,
                           may_manage=may_manage, units=managed_units() if may_manage else [])


@bp.route("/<uid>/roles", methods=["POST"])
@login_required
@roles_required(Role.SUPERADMIN)
def change_roles(uid: str) -> Response:
    """Give or take a role (over a unit for unit admins and HR officers): super admins only, audited."""
    mailbox = managed_mailbox(uid)
    changes = services().role_changes
    change = changes.revoke if request.form.get("action") == "revoke" else changes.grant
    _flash_outcome(lambda: change(mailbox.uid, parse_role(request.form.get("role", "")),
                                  (request.form.get("scope") or "").strip() or None),
                   t("Đã lưu vai trò.", "roles saved."))
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))


def _flash_outcome(change: Callable[[], object], saved: Text) -> None:
    """Run one change and flash how it went; a refusal of rights stays a 403 page."""
    try:
        change()
        flash(say(saved), "info")
    except PermissionDenied:
        raise
    except MailadminError as error:
        flash(say(error.message), "error")


@bp.route("/<uid>/unlock", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def unlock(uid: str) -> Response:
    """Lift a lockout after wrong passwords (audited); a suspension is lifted by reactivating instead."""
    mailbox = managed_mailbox(uid)
    services().mailboxes.unlock(mailbox.uid)
    flash(say(t("Đã mở khóa: chủ hộp thư có thể đăng nhập lại.", "unlocked: the owner can log in again.")), "info")
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))


@bp.route("/<uid>/edit", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def edit(uid: str) -> Response:
    mailbox = managed_mailbox(uid)
    form = request.form
    _flash_outcome(lambda: services().mailboxes.update(
        mailbox.uid, title=form.get("title", ""), phone=form.get("phone", ""), hr_id=form.get("hr_id", ""),
        quota_mib=_int(form.get("quota_mib")), aliases=lines_of(form.get("aliases", ""))), t("Đã lưu.", "saved."))
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))


@bp.route("/<uid>/status/<action>", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def lifecycle(uid: str, action: str) -> Response:
    if action not in LIFECYCLE:
        abort(404)
    mailbox = managed_mailbox(uid)
    require_status_change(principal(), mailbox.uid, LIFECYCLE[action])
    getattr(services().mailboxes, action)(mailbox.uid)
    flash(say(t("Đã cập nhật trạng thái.", "status updated.")), "info")
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))


@bp.route("/<uid>/move", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def move(uid: str) -> Response:
    mailbox = managed_mailbox(uid)
    target = managed_unit(request.form.get("unit", ""))
    services().mailboxes.move(mailbox.uid, target.code)
    flash(say(t("Đã chuyển sang {unit}.", "moved to {unit}.", unit=target.name)), "info")
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))


@bp.route("/<uid>/password", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def reset_password(uid: str) -> Response:
    """A random one-time password, shown once on the next page; the owner must change it at the next login."""
    mailbox = managed_mailbox(uid)
    require_password_reset(principal(), mailbox.uid)
    submission = request.form.get("submission", "")
    if earlier_result(submission) is None:
        keep_once(mailbox.uid, services().mailboxes.reset_password(mailbox.uid), created=False)
        remember_result(submission, mailbox.uid)
    return redirect(url_for("mailboxes.shown_once", uid=mailbox.uid))


@bp.route("/bulk", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def bulk() -> Response:
    """Suspend, reactivate or move a selection, or every mailbox of the search, as one undoable job.

    Every mailbox (and a move's target) is checked before anything is planned; a page's selection is
    applied at once and the list comes back with its search, a whole search runs on its job's page.
    """
    form = request.form
    action, back = form.get("action", ""), safe_next(form.get("back"), url_for("mailboxes.index"))
    every, uids = form.get("matching") == "1", form.getlist("uid")[:PAGE_SIZE * 4]
    if action == "handover" and uids:  # new initial passwords on a printed sheet: confirmed on a page of its own
        return redirect(url_for("handover.confirm", uid=[managed_mailbox(uid).uid for uid in uids], back=back))
    if action not in BULK_ACTIONS or not (uids or every):
        flash(say(t("Chọn hộp thư và thao tác.", "choose mailboxes and an action.")), "error")
        return redirect(back)
    code = form.get("unit", "")
    target = managed_unit(code) if action == "move" and code else None
    try:
        chosen = services().mailboxes.find(_query(_listing(back))) if every else services().bulk.chosen(uids)
        selection = services().bulk.select(principal(), action, chosen, target)
        job, new = services().bulk.start(selection, form.get("submission", ""), owner=principal().uid, back=back)
    except PermissionDenied:
        raise
    except MailadminError as error:
        flash(say(error.message), "error")
        return redirect(back)
    if (note := selection.note()) is not None:
        flash(say(note), "info")
    if not new:
        flash(say(t("Biểu mẫu này đã được gửi: thao tác không chạy lại.",
                    "this form was already sent: the action did not run again.")), "info")
        return redirect(url_for("mailboxes.bulk_job", job_id=job.id))
    return _run_job(job, back=back)


def _listing(back: str) -> MultiDict[str, str]:
    """The search a list URL holds (the list the bulk form was sent from)."""
    return MultiDict(parse_qsl(urlsplit(back).query))


def _run_job(job: Job, undo: bool = False, back: str | None = None) -> Response:
    """Apply (or undo) a job: a page's worth of writes now, then `back` (or the job page) shows; more in the
    background, on the job page."""
    jobs = services().bulk  # not services() in the worker thread: it has no app context
    work: Callable[[], dict[str, Any]] = (lambda: jobs.undo(job.id)) if undo else (lambda: jobs.apply(job))
    if jobs.status(job)["total"] > PAGE_SIZE * 4:
        workers.start(job.id, work, f"bulk-{job.id}")
        return redirect(url_for("mailboxes.bulk_job", job_id=job.id))
    try:
        summary = work()
    except MailadminError as error:  # the journal keeps the job: its page offers to resume
        flash(say(error.message), "error")
        return redirect(url_for("mailboxes.bulk_job", job_id=job.id))
    flash(say(_summary_message(summary)), "error" if summary.get("failed_count") or summary.get("not_undone")
          else "info")
    if back is None:
        return redirect(url_for("mailboxes.bulk_job", job_id=job.id))
    session[LAST_JOB] = job.id
    return redirect(back)


def _summary_message(summary: dict[str, Any]) -> Text:
    if summary["state"] == "undone":
        return t("Đã hoàn tác {n} hộp thư; {k} hộp thư không hoàn tác được.",
                 "{n} mailboxes put back; {k} could not be.", n=summary["undone"], k=len(summary["not_undone"]))
    return t("Đã xử lý {n} hộp thư ({u} không cần đổi, {k} không đổi được).",
             "{n} mailboxes done ({u} needed no change, {k} could not be changed).",
             n=summary["done"], u=summary["unchanged"], k=summary["failed_count"])


def owned_bulk_job(job_id: str) -> Job:
    """A bulk job the person started (super admins see all); others' jobs do not exist for them."""
    return owned_job(services().bulk.job(job_id), t("Không có công việc {job}", "no job {job}", job=job_id))


@bp.route("/bulk/<job_id>")
@login_required
@roles_required(*ADMINS)
def bulk_job(job_id: str) -> str:
    """A bulk job: progress, the outcome for each mailbox, resume and undo."""
    job = owned_bulk_job(job_id)
    units = {unit.code: unit.name for unit in services().units.index().walk()}
    return render_template("mailboxes/bulk_job.html", job=job, meta=job.meta(), status=_job_status(job),
                           rows=services().bulk.rows(job), unit_names=units)


@bp.route("/bulk/<job_id>/status")
@login_required
@roles_required(*ADMINS)
def bulk_status(job_id: str) -> Response:
    """Small JSON for the job page's polling."""
    return jsonify(_job_status(owned_bulk_job(job_id)))


def _job_status(job: Job) -> dict[str, Any]:
    status = services().bulk.status(job)
    failure = workers.failure(job.id)
    return {**status, "running": workers.running(job.id), "failure": say(failure) if failure else "",
            "results": status["state"] == "done"}  # the undo button


@bp.route("/bulk/<job_id>/resume", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def bulk_resume(job_id: str) -> Response:
    """Finish a job that was interrupted (the process ended, the directory was lost)."""
    return _carry_on(owned_bulk_job(job_id), undo=False)


@bp.route("/bulk/<job_id>/undo", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def bulk_undo(job_id: str) -> Response:
    """Put back every mailbox the job changed (rights checked again: where each mailbox is now)."""
    return _carry_on(owned_bulk_job(job_id), undo=True)


def _carry_on(job: Job, undo: bool) -> Response:
    """Apply or undo a job in the state that allows it, unless it runs already."""
    allowed, refusal = ((("done", "undoing"), t("Chỉ hoàn tác được công việc đã xong",
                                                 "only a finished job can be undone")) if undo
                        else (("planned", "applying"), t("Công việc này đã xong", "this job is finished already")))
    if job.state not in allowed or workers.running(job.id):
        flash(say(refusal), "error")
        return redirect(url_for("mailboxes.bulk_job", job_id=job.id))
    jobs = services().bulk
    (jobs.authorize_undo if undo else jobs.authorize_resume)(principal(), job)
    return _run_job(job, undo=undo)
