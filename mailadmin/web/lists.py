"""Distribution list pages: lists of a unit, create (custom or the unit's staff list), members."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.errors import MailadminError, PermissionDenied
from mailadmin.i18n import t
from mailadmin.model import Unit
from mailadmin.web import services
from mailadmin.web.guard import (
    default_unit_code,
    managed_unit,
    principal,
    readable_mailbox,
    readable_unit,
    roles_required,
)
from mailadmin.web.language import say
from mailadmin.web.mailboxes import ADMINS, READERS, lines_of, readable_units

bp = Blueprint("lists", __name__, url_prefix="/lists")


@bp.route("")
@login_required
@roles_required(*READERS)
def index() -> str:
    unit = requested_unit(request.args.get("unit"))
    return render_template("lists/index.html", unit=unit, lists=services().lists.in_unit(unit.code),
                           units=readable_units(), may_manage=principal().may_manage(unit))


def requested_unit(code: str | None) -> Unit:
    """The unit a list page or call names, else the person's first subtree, else the province (global readers)."""
    return readable_unit((code or "").strip() or default_unit_code() or services().lists.home_unit().code)


@bp.route("/<unit_code>/<name>")
@login_required
@roles_required(*READERS)
def show(unit_code: str, name: str) -> str:
    unit = readable_unit(unit_code)
    return render_template("lists/show.html", unit=unit, item=services().lists.get(unit.code, name),
                           members=services().lists.members(unit.code, name),
                           may_manage=principal().may_manage(unit))


def _outcome(action: object, unit_code: str, name: str | None = None) -> Response:
    try:
        result = action()  # type: ignore[operator]
        flash(say(t("Đã lưu.", "saved.")), "info")
        name = getattr(result, "name", name)
    except PermissionDenied:
        raise
    except MailadminError as error:
        flash(say(error.message), "error")
    if name:
        return redirect(url_for("lists.show", unit_code=unit_code, name=name))
    return redirect(url_for("lists.index", unit=unit_code))


@bp.route("/new", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def create() -> Response:
    unit = managed_unit(request.form.get("unit", ""))
    members = [readable_mailbox(uid).uid for uid in lines_of(request.form.get("members", ""))]
    if request.form.get("kind") == "unit":
        return _outcome(lambda: services().lists.create_unit_list(unit.code), unit.code)
    return _outcome(lambda: services().lists.create(unit.code, request.form.get("name", ""),
                                                    request.form.get("description", ""), members), unit.code)


@bp.route("/<unit_code>/<name>/members", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def add_member(unit_code: str, name: str) -> Response:
    unit = managed_unit(unit_code)
    uid = readable_mailbox(request.form.get("uid", "")).uid
    return _outcome(lambda: services().lists.add_member(unit.code, name, uid), unit.code, name)


@bp.route("/<unit_code>/<name>/members/<uid>/remove", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def remove_member(unit_code: str, name: str, uid: str) -> Response:
    unit = managed_unit(unit_code)
    return _outcome(lambda: services().lists.remove_member(unit.code, name, uid), unit.code, name)
