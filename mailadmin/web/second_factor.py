"""Second factor pages: enrolment on /me (QR code drawn here, then recovery codes once), disabling, resets."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t
from mailadmin.model import Role
from mailadmin.web import services
from mailadmin.web.guard import managed_mailbox, principal, roles_required
from mailadmin.web.language import say
from mailadmin.web.once import keep_once, take_once

bp = Blueprint("second_factor", __name__)
PENDING_KEY = "enrol_secret"  # the secret being enrolled, encrypted, until a code confirms it


class ConfirmForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=16)])


@bp.route("/me/second-factor", methods=["GET", "POST"])
@login_required
def enrol() -> str | Response | tuple[str, int]:
    """Enrol TOTP: a new secret as a QR code and text; a valid code makes it active."""
    person, factor = principal(), services().second_factor
    if person.second_factor:
        kept = take_once(f"recovery:{person.uid}")
        codes = kept[0].split() if kept and kept[0] else []
        return render_template("home/second_factor.html", enrolled=True, codes=codes, person=person)
    form = ConfirmForm()
    secret = factor.box.open(session.get(PENDING_KEY, "")) if session.get(PENDING_KEY) else None
    if secret is None:
        secret = factor.new_secret()
        session[PENDING_KEY] = factor.box.seal(secret)
    if form.validate_on_submit():
        try:
            confirmed = factor.confirm(person.uid, secret, form.code.data or "")
        except InvalidInput as error:
            flash(say(error.message), "error")
            return _enrol_page(form, secret, 400)
        session.pop(PENDING_KEY, None)
        session["epoch"], session["second_factor"] = confirmed.epoch, True  # other sessions ended
        keep_once(f"recovery:{person.uid}", " ".join(confirmed.recovery_codes), created=True)
        return redirect(url_for("second_factor.enrol"))
    return _enrol_page(form, secret, 400 if request.method == "POST" else 200)


def _enrol_page(form: ConfirmForm, secret: str, status: int) -> tuple[str, int]:
    mail = services().mailboxes.get(principal().uid).mail
    return render_template("home/second_factor.html", enrolled=False, form=form, secret=secret,
                           qr=services().second_factor.qr_svg(secret, mail), person=principal(),
                           certificate_sign_in=services().cert_signin.enabled), status


@bp.route("/me/second-factor/disable", methods=["POST"])
@login_required
def disable() -> Response | tuple[str, int]:
    """Remove one's own second factor (audited); every other session and token ends."""
    person = principal()
    try:
        services().second_factor.disable(person.uid, request.form.get("code", ""), request.remote_addr or "")
    except InvalidInput as error:
        flash(say(error.message), "error")
        return render_template("home/second_factor.html", enrolled=True, codes=[], person=person), 400
    session["epoch"] = services().roles.holder(person.uid).epoch  # type: ignore[union-attr]
    session["second_factor"] = False
    flash(say(t("Đã tắt yếu tố xác thực thứ hai.", "the second factor is disabled.")), "info")
    return redirect(url_for("second_factor.enrol"))


@bp.route("/mailboxes/<uid>/second-factor/reset", methods=["POST"])
@login_required
@roles_required(Role.SUPERADMIN)
def reset(uid: str) -> Response:
    """A super admin removes someone's second factor (a lost phone): audited, their sessions end."""
    mailbox = managed_mailbox(uid)
    services().second_factor.reset(principal(), mailbox)
    flash(say(t("Đã xóa yếu tố thứ hai của {uid}; người này cần đăng ký lại sau khi đăng nhập.",
                "the second factor of {uid} is removed; they enrol again after their next login.",
                uid=mailbox.uid)), "info")
    return redirect(url_for("mailboxes.show", uid=mailbox.uid))
