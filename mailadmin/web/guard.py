"""Per-request security: the acting person, their roles and scopes, forced password change, headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from mailadmin.audit import acting_as
from mailadmin.errors import NotFound, PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.importer.journal import Job
from mailadmin.model import Mailbox, Role, Unit
from mailadmin.services.authz import Principal, Rights, require
from mailadmin.web import services

F = TypeVar("F", bound=Callable[..., Any])
# Endpoints open to a person who must first replace a reset password.
OPEN_DURING_FORCED_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "static"}
# Endpoints open to a role holder who must first enrol a second factor (auth.second_factor_roles).
OPEN_BEFORE_ENROLMENT = {*OPEN_DURING_FORCED_CHANGE, "auth.second_factor", "home.me", "second_factor.enrol",
                         "language.choose"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# Which roles reach each menu entry (the views check the same roles; the menu only hides dead ends).
MENU_ROLES = {"readers": (Role.SUPERADMIN, Role.UNITADMIN, Role.AUDITOR), "audit": (Role.SUPERADMIN, Role.AUDITOR)}


def init_app(app: Flask) -> None:
    """Attach the per-request hooks."""
    app.before_request(_enter_request)
    app.teardown_request(_leave_request)
    app.after_request(_security_headers)
    app.context_processor(lambda: {"menu_shows": menu_shows})


def menu_shows(entry: str) -> bool:
    """Whether the menu offers `entry` ("readers", "audit", "roles") to the logged-in person."""
    try:
        person = principal()
    except (PermissionDenied, NotFound):
        return False
    return bool(person.roles) if entry == "roles" else person.has(*MENU_ROLES[entry])


def _enter_request() -> Response | None:
    actor = f"web:{current_user.uid}" if current_user.is_authenticated else "web:anonymous"
    g.acting = acting_as(actor)
    g.acting.__enter__()
    if current_user.is_authenticated and session.get("must_change") \
            and request.endpoint not in OPEN_DURING_FORCED_CHANGE:
        return redirect(url_for("auth.change_password"))
    if current_user.is_authenticated and _must_enrol():
        return redirect(url_for("second_factor.enrol"))
    return None


def _must_enrol() -> bool:
    """True if this page is closed to the person until they enrol a second factor (the API answers itself)."""
    endpoint = request.endpoint or ""
    if endpoint in OPEN_BEFORE_ENROLMENT or endpoint.startswith("api."):
        return False
    try:
        return services().second_factor.required(principal())
    except PermissionDenied:
        return False


def _leave_request(_error: BaseException | None) -> None:
    acting = g.pop("acting", None)
    if acting is not None:
        acting.__exit__(None, None, None)


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def load_principal(uid: str, epoch: str | None) -> Principal | None:
    """The person behind a session with roles and scopes (one directory read, once per request).

    None when the mailbox is gone, no longer active, or its session epoch moved since `epoch` was
    taken (logout, password change or reset, suspension): the session ends in every web process.
    """
    if "principal" in g and g.principal.uid == uid:
        return g.principal
    holder = services().roles.holder(uid)
    if holder is None or holder.status != "active" or epoch is None or holder.epoch != epoch:
        return None
    # A certificate counts for a session that passed a second step: one bound while a password-only
    # session was waiting at the enrolment page does not open the admin pages to that session.
    passed = bool(session.get("second_factor")) and services().cert_signin.certificate_factor(holder)
    g.principal = Principal(holder.uid, holder.name, holder.roles, holder.scopes, holder.second_factor, passed)
    return g.principal


def principal() -> Principal:
    """The logged-in person with roles and scopes, read from the directory once per request."""
    if "principal" not in g:
        found = load_principal(current_user.uid, session.get("epoch"))
        if found is None:
            raise PermissionDenied(t("Tài khoản không còn hoạt động", "the account is no longer active"))
    return g.principal


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Refuse (403) anyone holding none of `roles`."""
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require(principal().has(*roles))
            return view(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def unit_by_code(code: str) -> Unit:
    """A unit by code; an unknown code re-reads the tree once (a unit another process made within the 0.1 s
    that UnitService.index's calls share one change check)."""
    units = services().units
    try:
        return units.get(code)
    except NotFound:
        units.forget()
        return units.get(code)


def readable_unit(code: str) -> Unit:
    """A unit the person may read, else PermissionDenied."""
    unit = unit_by_code(code)
    require(principal().may_read(unit), unit)
    return unit


def managed_unit(code: str) -> Unit:
    """A unit the person may change, else PermissionDenied."""
    unit = unit_by_code(code)
    require(principal().may_manage(unit), unit)
    return unit


def readable_mailbox(uid: str) -> Mailbox:
    """A mailbox whose unit the person may read."""
    mailbox = services().mailboxes.get(uid)
    readable_unit(mailbox.unit_code)
    return mailbox


def managed_mailbox(uid: str) -> Mailbox:
    """A mailbox the person may change: its unit is theirs AND its owner holds no rights beyond theirs."""
    mailbox = services().mailboxes.get(uid)
    unit_by_code(mailbox.unit_code)  # a unit another process just made is read before the check
    services().mailboxes.authorize_change(principal(), mailbox)
    return mailbox


def may_change_mailbox(mailbox: Mailbox, rights: Rights | None = None) -> bool:
    """Whether the page should offer changes to this mailbox (the same rule as managed_mailbox)."""
    try:
        services().mailboxes.authorize_change(principal(), mailbox, rights)
    except PermissionDenied:
        return False
    return True


def default_unit_code() -> str | None:
    """Where a list starts: everything for global readers, else the person's first subtree."""
    person = principal()
    if person.has(Role.SUPERADMIN, Role.AUDITOR):
        return None
    require(bool(person.scopes))
    return person.scopes[0][-1]


def owned_job(job: Job, missing: Text) -> Job:
    """A job the person may see (theirs; super admins see all); others' jobs do not exist for them."""
    if not principal().may_see_job(str(job.meta().get("owner", ""))):
        raise NotFound(missing)
    return job
