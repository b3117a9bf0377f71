"""JSON API under /api/v1: bearer tokens, the same role and scope checks as the pages (docs/openapi.yaml)."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Blueprint, Flask, g, jsonify, request
from werkzeug.wrappers import Response

from mailadmin.audit import acting_as
from mailadmin.directory.roles import RoleHolder
from mailadmin.errors import InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.model import Mailbox, Role, Status, Tier, Unit
from mailadmin.services.authz import Principal, require_password_reset, require_status_change
from mailadmin.services.mailboxes import LIFECYCLE, MailboxQuery, NewMailbox, list_sort
from mailadmin.services.mailstore import UsageState
from mailadmin.services.tokens import Issued
from mailadmin.web import csrf, services
from mailadmin.web.auth import LOCAL_TIME
from mailadmin.web.error_pages import json_error
from mailadmin.web.guard import (
    default_unit_code,
    managed_mailbox,
    managed_unit,
    principal,
    readable_mailbox,
    readable_unit,
    roles_required,
)
from mailadmin.web.lists import requested_unit

bp = Blueprint("api", __name__, url_prefix="/api/v1")
Choice = TypeVar("Choice", Tier, Status)
ADMINS = (Role.SUPERADMIN, Role.UNITADMIN)
READERS = (Role.SUPERADMIN, Role.UNITADMIN, Role.AUDITOR)
MAX_LIMIT = 500
def init_app(app: Flask) -> None:
    """Register the API without CSRF (no cookies are used: every call carries its token)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    header = request.headers.get("Authorization", "")
    issued = services().tokens.resolve(header[7:].strip()) if header.startswith("Bearer ") else None
    holder = services().roles.holder(issued.uid) if issued else None
    refusal = _token_refusal(holder, issued)
    if refusal is not None:
        return _refused(*refusal)
    assert holder is not None
    g.principal = _principal_of(holder)
    if "acting" in g:
        g.acting.__exit__(None, None, None)
    g.acting = acting_as(f"api:{holder.uid}")
    g.acting.__enter__()
    return None


def _token_refusal(holder: RoleHolder | None, issued: Issued | None) -> tuple[int, Text] | None:
    """Why a token may not act (401: unknown or ended with its person's sessions; 403: account state)."""
    if holder is None or issued is None or holder.epoch != issued.epoch:
        return 401, t("Cần mã truy cập API hợp lệ (Authorization: Bearer …); mã cũ hết hiệu lực khi đăng xuất, "
                      "đổi mật khẩu hoặc tạm khóa tài khoản",
                      "a valid API token is required (Authorization: Bearer …); a token ends at logout, "
                      "a password change or reset, or a suspension")
    if holder.status != "active":
        return 403, t("Tài khoản không còn hoạt động", "the account is no longer active")
    if services().second_factor.required(_principal_of(holder)):
        return 403, t("Vai trò của bạn cần xác thực hai lớp: hãy đăng ký trên trang Tài khoản của tôi trước",
                      "your role requires a second factor: enrol it on My account in the web admin first")
    if holder.must_change:
        return 403, t("Mật khẩu đã được đặt lại: hãy đổi mật khẩu trên trang quản trị trước",
                      "the password was reset: change it in the web admin first")
    return None


def _principal_of(holder: RoleHolder) -> Principal:
    return Principal(holder.uid, holder.name, holder.roles, holder.scopes, holder.second_factor,
                     services().cert_signin.certificate_factor(holder))


def _refused(status: int, message: Text) -> tuple[Response, int]:
    answer = json_error(status, message)
    if status == 401:  # RFC 6750: a 401 names the scheme the client must use
        answer[0].headers["WWW-Authenticate"] = 'Bearer realm="mailadmin"'
    return answer


def mailbox_json(mailbox: Mailbox) -> dict[str, Any]:
    """A mailbox as the API shows it."""
    return {"uid": mailbox.uid, "full_name": mailbox.name.full, "mail": mailbox.mail, "unit": mailbox.unit_code,
            "tier": mailbox.tier.value, "status": mailbox.status.value, "aliases": list(mailbox.aliases),
            "title": mailbox.title, "phone": mailbox.phone, "hr_id": mailbox.hr_id, "quota_mib": mailbox.quota_mib,
            "retain_until": mailbox.retain_until.isoformat() if mailbox.retain_until else None,
            "certificates": len(mailbox.certificates)}


def unit_json(unit: Unit) -> dict[str, Any]:
    """A unit as the API shows it."""
    return {"code": unit.code, "name": unit.name, "kind": unit.kind.value, "parent": unit.parent_code}


def _number(name: str, default: int, high: int) -> int:
    try:
        return max(0, min(int(request.args.get(name, default)), high))
    except ValueError:
        raise InvalidInput(t("{n} phải là số", "{n} must be a number", n=name), name) from None


def _choice(kind: type[Choice], name: str) -> Choice | None:
    value = request.args.get(name)
    try:
        return kind(value) if value else None
    except ValueError:
        raise InvalidInput(t("Giá trị không hợp lệ cho {n}", "invalid value for {n}", n=name), name) from None


@bp.get("/mailboxes")
@roles_required(*READERS)
def list_mailboxes() -> Response:
    unit_code = request.args.get("unit") or default_unit_code()
    if unit_code:
        readable_unit(unit_code)
    sort, descending = list_sort(request.args.get("sort"))
    query = MailboxQuery(unit_code=unit_code, tier=_choice(Tier, "tier"), status=_choice(Status, "status"),
                         text=(request.args.get("q") or "")[:200].replace("\x00", ""), sort=sort, descending=descending)
    items, total = services().mailboxes.page(query, _number("offset", 0, 10**7), _number("limit", 50, MAX_LIMIT) or 1)
    return jsonify(total=total, items=[mailbox_json(m) for m in items])


@bp.get("/mailboxes/<uid>")
@roles_required(*READERS)
def get_mailbox(uid: str) -> Response:
    mailbox = readable_mailbox(uid)
    lock = services().mailboxes.lock_state(mailbox.uid)
    until = lock.until.astimezone(LOCAL_TIME).isoformat() if lock.until else None
    state = {"locked": lock.locked, "until": until, "failures": lock.failures}
    return jsonify({**mailbox_json(mailbox), "lock": state, "quota_use": _quota_use_json(mailbox.uid)})


def _quota_use_json(uid: str) -> dict[str, Any]:
    """Usage as the mail store reports it; `state` off / unavailable leaves the numbers out."""
    use = services().mailstore.quota_use(uid)
    if use.state is not UsageState.REPORTED:
        return {"state": use.state.value}
    return {"state": use.state.value, "used_bytes": use.used_bytes, "limit_bytes": use.limit_bytes,
            "percent": None if use.percent is None else round(use.percent, 2)}


def _body() -> dict[str, Any]:
    """The request's JSON object, else InvalidInput (an array, a string, malformed JSON)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(t("Cần một đối tượng JSON", "a JSON object is expected"))
    return data


def _text(data: dict[str, Any], name: str) -> str:
    """A text field of the body ("" when absent), else InvalidInput naming it."""
    value = data.get(name)
    if value is None or isinstance(value, str):
        return value or ""
    raise InvalidInput(t("{n} phải là chuỗi ký tự", "{n} must be a string", n=name), name)


def _whole_number(data: dict[str, Any], name: str) -> int:
    """A whole-number field of the body (0 when absent), else InvalidInput naming it."""
    value = data.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value or 0
    raise InvalidInput(t("{n} phải là số nguyên", "{n} must be a whole number", n=name), name)


def _texts(data: dict[str, Any], name: str) -> tuple[str, ...]:
    """A list-of-strings field of the body (empty when absent), else InvalidInput naming it."""
    value = data.get(name)
    if value is None or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        return tuple(value or ())
    raise InvalidInput(t("{n} phải là danh sách chuỗi ký tự", "{n} must be a list of strings", n=name), name)


def _unit_named(data: dict[str, Any]) -> Unit:
    """The unit the body names, if the person may change it (InvalidInput when none is named)."""
    code = _text(data, "unit")
    if not code:
        raise InvalidInput(t("Cần mã đơn vị (unit)", "a unit code (unit) is required"), "unit")
    return managed_unit(code)


@bp.post("/mailboxes")
@roles_required(*ADMINS)
def create_mailbox() -> tuple[Response, int]:
    data = _body()
    unit = _unit_named(data)
    created = services().mailboxes.add(NewMailbox(
        full_name=_text(data, "full_name"), unit_code=unit.code, mail=_text(data, "mail"),
        title=_text(data, "title"), phone=_text(data, "phone"), hr_id=_text(data, "hr_id"),
        aliases=_texts(data, "aliases"), quota_mib=_whole_number(data, "quota_mib")))
    return jsonify(mailbox=mailbox_json(created.mailbox), initial_password=created.initial_password), 201


@bp.post("/mailboxes/<uid>/<action>")
@roles_required(*ADMINS)
def change_mailbox(uid: str, action: str) -> Response | tuple[Response, int]:
    mailbox = managed_mailbox(uid)
    if action in LIFECYCLE:
        require_status_change(principal(), mailbox.uid, LIFECYCLE[action])
        return jsonify(mailbox_json(getattr(services().mailboxes, action)(mailbox.uid)))
    if action == "move":
        target = _unit_named(_body())
        return jsonify(mailbox_json(services().mailboxes.move(mailbox.uid, target.code)))
    if action == "password":
        require_password_reset(principal(), mailbox.uid)
        return jsonify(initial_password=services().mailboxes.reset_password(mailbox.uid))
    return json_error(404, t("Không có thao tác {a}", "unknown action {a}", a=action))


@bp.get("/units")
@roles_required(*READERS)
def list_units() -> Response:
    person = principal()
    return jsonify(items=[unit_json(u) for u in services().units.index().walk() if person.may_read(u)])


@bp.get("/units/<code>")
@roles_required(*READERS)
def get_unit(code: str) -> Response:
    return jsonify(unit_json(readable_unit(code)))


@bp.get("/me")
def me() -> Response:
    person = principal()
    require_roles = sorted(role.value for role in person.roles)
    return jsonify(uid=person.uid, full_name=person.full_name, roles=require_roles)





@bp.get("/lists")
@roles_required(*READERS)
def list_lists() -> Response:
    unit = requested_unit(request.args.get("unit"))
    return jsonify(items=[{"name": item.name, "address": item.address, "unit": item.unit_code,
                           "description": item.description, "members": item.members}
                          for item in services().lists.in_unit(unit.code)])


@bp.get("/lists/<unit_code>/<name>")
@roles_required(*READERS)
def list_members(unit_code: str, name: str) -> Response:
    unit = readable_unit(unit_code)
    item = services().lists.get(unit.code, name)
    return jsonify(name=item.name, address=item.address, unit=item.unit_code, description=item.description,
                   members=[mailbox_json(m) for m in services().lists.members(unit.code, name)])
