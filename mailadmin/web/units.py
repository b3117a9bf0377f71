"""Unit pages: the tree with mailbox counts; create, rename and move units; appoint unit admins."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.errors import InvalidInput, MailadminError, PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.model import Mailbox, Role, Unit, UnitKind
from mailadmin.names import search_key
from mailadmin.services.authz import require
from mailadmin.services.mailboxes import MailboxQuery
from mailadmin.services.units import UnitIndex
from mailadmin.web import services
from mailadmin.web.guard import managed_unit, principal, readable_unit, roles_required
from mailadmin.web.language import say
from mailadmin.web.mailboxes import ADMINS, READERS, managed_units

bp = Blueprint("units", __name__, url_prefix="/units")
STAFF_SHOWN = 500


@bp.route("")
@login_required
@roles_required(*READERS)
def index() -> str:
    """The unit tree folded by branch (137 flat rows before), or the units a search names, with their path."""
    person = principal()
    totals = services().dashboard.unit_totals()
    index_ = services().units.index()
    readable = [unit for unit in index_.walk() if person.may_read(unit)]
    text = (request.args.get("q") or "").strip()[:100]
    found = [unit for unit in readable if _matches(unit, text)] if text else []
    fate, successors = _history_hit(text, index_) if text and not found else ("", [])
    return render_template("units/index.html", totals=totals, children=index_.children, query=text, found=found,
                           fate=fate, successors=successors,
                           roots=[unit for unit in readable if not unit.parent_code or
                                  not person.may_read(index_.units[unit.parent_code])],
                           names={unit.code: unit.name for unit in readable})


def _history_hit(text: str, index_: UnitIndex) -> tuple[str, list[Unit]]:
    """A search for a code that is no longer a unit: what became of it, and the successors the person may read."""
    code = index_.former_code(text) or text
    fate = index_.fate(code)
    successors = [unit for unit in index_.successors(code) if principal().may_read(unit)] if fate else []
    return (say(fate), successors) if fate and successors else ("", [])


def _matches(unit: Unit, text: str) -> bool:
    """A unit named by a search: its code, or its name with or without diacritics."""
    return text.lower() == unit.code.lower() or search_key(text) in search_key(unit.name)


@bp.route("/<code>")
@login_required
@roles_required(*READERS)
def show(code: str) -> str:
    index_ = services().units.index()
    fate = index_.fate(code)
    if fate is not None:
        return _former(code, fate, index_)
    unit = readable_unit(code)
    person = principal()
    return render_template("units/show.html", unit=unit, may_manage=person.may_manage(unit),
                           formerly=_formerly(unit, index_),
                           may_appoint=person.has(Role.SUPERADMIN), kinds=list(UnitKind),
                           admins=services().unit_admin.admins_of(unit.code),
                           children=services().units.index().children.get(unit.code, []),
                           parents=[u for u in managed_units() if u.path[: len(unit.path)] != unit.path],
                           staff=_staff(unit) if person.has(Role.SUPERADMIN) else [])


def _former(code: str, fate: Text, index_: UnitIndex) -> str:
    """The page of a code that is no longer a unit: what became of it and when (for readers of a successor)."""
    successors = index_.successors(code)
    require(any(principal().may_read(unit) for unit in successors))
    return render_template("units/former.html", code=code, former=index_.former.get(code),
                           fate=say(fate), successors=successors)


def _formerly(unit: Unit, index_: UnitIndex) -> list[dict[str, str]]:
    """The units this one took over (its maPredecessor), with their names where the history keeps them."""
    return [{"code": code, "name": index_.former[code].name if code in index_.former else ""}
            for code in unit.predecessors if code != unit.code]


def _staff(unit: Unit) -> list[Mailbox]:
    """The unit's people in name order, for picking an administrator by name (the first STAFF_SHOWN)."""
    return services().mailboxes.page(MailboxQuery(unit_code=unit.code), 0, STAFF_SHOWN, full=False)[0]


def _act(code: str, action: str) -> Response:
    """Run one change, show its outcome, come back to the unit page."""
    try:
        result = _CHANGES[action](code)
        services().dashboard.forget()
        flash(say(t("Đã lưu.", "saved.")), "info")
    except PermissionDenied:
        raise
    except MailadminError as error:
        flash(say(error.message), "error")
        result = code
    return redirect(url_for("units.show", code=result))


def _rename(code: str) -> str:
    managed_unit(code)
    return services().units.rename(code, request.form.get("name", "")).code


def _create(code: str) -> str:
    managed_unit(code)
    try:
        kind = UnitKind(request.form.get("kind", ""))
    except ValueError:
        raise InvalidInput(t("Loại đơn vị không hợp lệ", "invalid unit kind"), "kind") from None
    require(kind is not UnitKind.PROVINCE)
    return services().unit_admin.create(request.form.get("code", ""), request.form.get("name", ""), kind, code).code


def _move(code: str) -> str:
    unit = managed_unit(code)
    require(unit.parent_code is not None, unit)  # the province stays at the top
    managed_unit(unit.parent_code or "")
    managed_unit(request.form.get("parent", ""))
    return services().unit_admin.move(code, request.form.get("parent", "")).code


def _appoint(code: str) -> str:
    require(principal().has(Role.SUPERADMIN))
    services().unit_admin.appoint(request.form.get("uid", ""), code)
    return code


_CHANGES = {"rename": _rename, "create": _create, "move": _move, "appoint": _appoint}


@bp.route("/<code>/<action>", methods=["POST"])
@login_required
@roles_required(*ADMINS)
def change(code: str, action: str) -> Response:
    if action not in _CHANGES:
        return redirect(url_for("units.show", code=code))
    return _act(code, action)
