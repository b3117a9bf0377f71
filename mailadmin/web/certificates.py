"""Certificate pages: the section on the mailbox page and /me, upload, details, unbind with confirmation.

Scope checks are the certificate service's (admins within their units, auditors read, the owner in
self-service); the service also audits every change.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.certs.parse import MAX_CERTIFICATE_BYTES
from mailadmin.errors import InvalidInput, MailadminError, PermissionDenied
from mailadmin.i18n import t
from mailadmin.model import Role
from mailadmin.services.authz import require
from mailadmin.services.certificates import BoundCertificate
from mailadmin.web import services
from mailadmin.web.guard import may_change_mailbox, principal
from mailadmin.web.language import say

bp = Blueprint("certificates", __name__, url_prefix="/certificates")
READERS = (Role.SUPERADMIN, Role.UNITADMIN, Role.AUDITOR)
STATUS_NAMES = {"valid": lazy_gettext("Còn hiệu lực"), "expiring": lazy_gettext("Sắp hết hạn"),
                "expired": lazy_gettext("Đã hết hạn"), "not_yet_valid": lazy_gettext("Chưa có hiệu lực"),
                "revoked": lazy_gettext("Đã bị thu hồi")}


def _own_or_reader(uid: str) -> None:
    """Anyone but the owner needs a reading role before the mailbox is even looked up (403, never 404)."""
    person = principal()
    require(person.uid == uid or person.has(*READERS))


def _back(uid: str) -> str:
    """The page the action came from: /me or the mailbox page (a fixed choice, never a free URL)."""
    if request.values.get("back") == "me" and principal().uid == uid:
        return url_for("home.me")
    return url_for("mailboxes.show", uid=uid)


def _bound(uid: str, fingerprint: str) -> BoundCertificate:
    _own_or_reader(uid)
    wanted = fingerprint.replace(":", "").lower()
    found = [b for b in services().certificates.show(uid, principal=principal())
             if b.info.fingerprint_sha256.replace(":", "").lower() == wanted]
    if not found:
        abort(404)
    return found[0]


@bp.app_template_global()
def bound_certificates(uid: str) -> list[BoundCertificate]:
    """The certificates of a mailbox the person may see (for the mailbox page and /me)."""
    return services().certificates.show(uid, principal=principal())


@bp.app_template_global()
def may_manage_certificates(uid: str) -> bool:
    """Whether the person may upload to or unbind from this mailbox."""
    return principal().uid == uid or may_change_mailbox(services().mailboxes.get(uid))


@bp.app_template_global()
def certificate_status_name(status: str) -> str:
    """The status in the page language."""
    return str(STATUS_NAMES.get(status, status))


@bp.route("/<uid>/upload", methods=["POST"])
@login_required
def upload(uid: str) -> Response:
    _own_or_reader(uid)
    back = _back(uid)
    try:
        bound, warnings = services().certificates.bind(uid, _uploaded(), principal=principal())
    except MailadminError as error:
        if isinstance(error, PermissionDenied):
            raise
        flash(say(error.message), "error")
        return redirect(back)
    for warning in warnings:
        flash(say(t("Cảnh báo: {w_vi}", "Warning: {w_en}", w_vi=warning.render("vi"), w_en=warning.render("en"))),
              "error")
    flash(say(t("Đã gắn chứng thư số {fp}.", "certificate {fp} bound.", fp=bound.info.fingerprint_sha256)), "info")
    return redirect(back)


def _uploaded() -> bytes:
    """The uploaded file, read one byte past the limit so that the service reports an over-size file."""
    upload = request.files.get("certificate")
    if upload is None or not upload.filename:
        raise InvalidInput(t("Chọn tệp chứng thư số để tải lên.", "choose a certificate file to upload."),
                           field="certificate")
    return upload.stream.read(MAX_CERTIFICATE_BYTES + 1)


@bp.route("/<uid>/<fingerprint>")
@login_required
def details(uid: str, fingerprint: str) -> str:
    bound = _bound(uid, fingerprint)
    return render_template("certificates/details.html", bound=bound, uid=uid,
                           may_manage=may_manage_certificates(uid), back=request.args.get("back", ""))


@bp.route("/<uid>/<fingerprint>/unbind", methods=["GET", "POST"])
@login_required
def unbind(uid: str, fingerprint: str) -> str | Response:
    """GET asks for confirmation; POST (with the CSRF token and confirm=yes) removes the binding."""
    bound = _bound(uid, fingerprint)
    require(may_manage_certificates(uid))
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("certificates/unbind.html", bound=bound, uid=uid, back=request.values.get("back", ""))
    services().certificates.unbind(uid, bound.info.fingerprint_sha256, principal=principal())
    flash(say(t("Đã gỡ chứng thư số {fp}.", "certificate {fp} unbound.", fp=bound.info.fingerprint_sha256)), "info")
    return redirect(_back(uid))
