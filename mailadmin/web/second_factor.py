"""Second factor pages: enrolment on /me (QR code drawn here, then recovery codes once), new recovery codes,
disabling, resets."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from mailadmin.errors import Conflict, InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.model import Role
from mailadmin.services.auth import Resend
from mailadmin.services.second_factor import Confirmed
from mailadmin.web import services
from mailadmin.web.auth import SENT_AGAIN, resent, submission
from mailadmin.web.guard import managed_mailbox, principal, roles_required
from mailadmin.web.language import say
from mailadmin.web.once import keep_browser_cookie, keep_once, new_submission, take_once

bp = Blueprint("second_factor", __name__)
PENDING_KEY = "enrol_secret"  # the secret being enrolled, encrypted, until a code confirms it
FACTOR_PAGE = "home/second_factor.html"
AGAIN_ENROLLED, AGAIN_RENEWED = "1", "codes"  # ?again=: which form was sent twice (its codes went to its first answer)
# The service's refusal, said again (with SENT_AGAIN) when the same form comes back: it is not checked twice.
WRONG_CODE = t("Mã không đúng, đã dùng hoặc nhập sai quá nhiều lần: nhập mã hiện tại của ứng dụng xác thực hoặc "
               "một mã khôi phục", "the code is wrong, used, or tried too often: type the authenticator's current "
               "code or a recovery code")


class ConfirmForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=16)])


@bp.route("/me/second-factor", methods=["GET", "POST"])
def enrol() -> str | Response | tuple[str, int]:
    """Enrol TOTP: a new secret as a QR code and text; a valid code makes it active."""
    if request.method == "POST" and _done_before(_confirmation):
        return _shown_before()
    return _enrol()


@login_required
def _enrol() -> str | Response | tuple[str, int]:
    person, factor = principal(), services().second_factor
    if person.second_factor:
        return _shown_before() if request.method == "POST" else _enrolled_page()
    form = ConfirmForm()
    secret = factor.box.open(session.get(PENDING_KEY, "")) if session.get(PENDING_KEY) else None
    if secret is None:
        secret = factor.new_secret()
        session[PENDING_KEY] = factor.box.seal(secret)
    if form.validate_on_submit():
        return _confirm(form, secret)
    return _enrol_page(form, secret, 400 if request.method == "POST" else 200)


def _confirm(form: ConfirmForm, secret: str) -> Response | tuple[str, int]:
    """Activate the factor once per submission; the codes go to the page the answer redirects to."""
    uid = principal().uid
    try:
        answer = resent().attempt(_confirmation(uid), lambda: _confirmed(uid, secret, form.code.data or ""),
                                  lambda made: Resend.DONE if isinstance(made, Confirmed) else None)
    except Conflict as error:  # another session enrolled first: the directory refused this one's write
        return _enrolled_elsewhere(error.message)
    if isinstance(answer, Text):
        flash(say(answer), "error")
        return _enrol_page(form, secret, 400)
    if not isinstance(answer, Confirmed):  # the same form, confirmed meanwhile by its first sending
        return _shown_before()
    session.pop(PENDING_KEY, None)
    session["epoch"], session["second_factor"] = answer.epoch, True  # other sessions ended
    keep_once(f"recovery:{uid}", " ".join(answer.recovery_codes), created=True)
    return redirect(url_for("second_factor.enrol"))


def _enrolled_elsewhere(message: Text) -> tuple[str, int]:
    """Why nothing was enrolled, on a page that leaves the browser's cookie alone: in a browser whose other
    tab enrolled, that cookie holds the session going on and the recovery codes still to show."""
    page = render_template("errors/error.html", status=409, message=message)
    keep_browser_cookie()
    return page, 409


def _confirmed(uid: str, secret: str, code: str) -> Confirmed | Text:
    """The enrolment `code` confirms, or why not."""
    try:
        return services().second_factor.confirm(uid, secret, code)
    except InvalidInput as error:
        return error.message


def _confirmation(uid: str) -> str:
    """What identifies this confirmation form as sent (its CSRF token, the person, the code)."""
    return submission("enrol", uid, request.form.get("code", ""))


def _done_before(sent: Callable[[str], str]) -> bool:
    """True when this very form (`sent` identifies it for a uid) already did its work (a double click, F5).

    Asked before the login check: enrolling or disabling moves the session epoch, so the second
    sending, with the cookie from before, is no longer logged in; sent to the login page, its
    cookie would replace the first answer's (the recovery codes, the session going on)."""
    uid = session.get("_user_id")
    return bool(uid) and resent().attempt(sent(str(uid)), lambda: None, lambda _: None) is Resend.DONE


def _shown_before(again: str = AGAIN_ENROLLED) -> Response:
    """To the result page, leaving the session (and the recovery codes the first answer put in it) alone."""
    keep_browser_cookie()
    return redirect(url_for("second_factor.enrol", again=again))


def _enrolled_page() -> str:
    """The factor is on: its recovery codes if they are still to be shown (after an enrolment or new codes,
    else what the form sent twice did), how to make new ones, how to disable it."""
    secret, enrolled_now = take_once(f"recovery:{principal().uid}") or (None, False)
    codes, again = (secret or "").split(), request.args.get("again")
    return render_template(FACTOR_PAGE, enrolled=True, codes=codes, person=principal(), submission=new_submission(),
                           renewed=bool(codes) and not enrolled_now, shown_before=not codes and again == AGAIN_ENROLLED,
                           renewed_before=not codes and again == AGAIN_RENEWED)


def _enrol_page(form: ConfirmForm, secret: str, status: int) -> tuple[str, int]:
    mail = services().mailboxes.get(principal().uid).mail
    return render_template(FACTOR_PAGE, enrolled=False, form=form, secret=secret,
                           qr=services().second_factor.qr_svg(secret, mail), person=principal(),
                           certificate_sign_in=services().cert_signin.enabled), status


@bp.route("/me/second-factor/disable", methods=["POST"])
def disable() -> Response | tuple[str, int]:
    """Remove one's own second factor (audited); every other session and token ends."""
    return _disabled_before() if _done_before(_disabling) else _disable()


def _disabling(uid: str) -> str:
    """What identifies this disabling form as sent (its CSRF token and submission id, the person, the code)."""
    return submission("disable", uid, request.form.get("submission", ""), request.form.get("code", ""))


@login_required
def _disable() -> Response | tuple[str, int]:
    person, code = principal(), request.form.get("code", "")
    answer = resent().attempt(_disabling(person.uid), lambda: _disabled(person.uid, code),
                              lambda why: Resend.DONE if why is None else Resend.REFUSED)
    if answer is Resend.DONE:
        return _disabled_before()
    if answer is not None:
        return _refused_page((WRONG_CODE, SENT_AGAIN) if answer is Resend.REFUSED else (answer,), 400)
    session["epoch"] = services().roles.holder(person.uid).epoch  # type: ignore[union-attr]
    session["second_factor"] = False
    flash(say(t("Đã tắt yếu tố xác thực thứ hai.", "the second factor is disabled.")), "info")
    return redirect(url_for("second_factor.enrol"))


def _disabled_before() -> Response:
    """To the second factor page, leaving the session alone: the first answer's cookie carries it on."""
    keep_browser_cookie()
    return redirect(url_for("second_factor.enrol"))


def _disabled(uid: str, code: str) -> Text | None:
    """Disable with `code` (a refusal counts as a failed login); None when done, else why not."""
    try:
        services().second_factor.disable(uid, code, request.remote_addr or "")
    except InvalidInput as error:
        return error.message
    return None


def _refused_page(messages: tuple[Text, ...], status: int) -> tuple[str, int]:
    """The second factor page of an enrolled person again, with why the form was refused."""
    for message in messages:
        flash(say(message), "error")
    return render_template(FACTOR_PAGE, enrolled=True, codes=[], person=principal(), submission=new_submission()), \
        status


@bp.route("/me/second-factor/recovery-codes", methods=["POST"])
@login_required
def recovery_codes() -> Response | tuple[str, int]:
    """New recovery codes for one's own second factor (audited), asked with a code; shown once, the old ones void."""
    person, code = principal(), request.form.get("code", "")
    if not person.second_factor:
        return redirect(url_for("second_factor.enrol"))
    try:
        answer = resent().attempt(_renewal(person.uid), lambda: _renewed(person.uid, code),
                                  lambda made: Resend.DONE if made else Resend.REFUSED)
    except Conflict as error:  # a code used or others made meanwhile (directory/second_factor.py)
        return _refused_page((error.message,), 409)
    if answer is Resend.DONE:  # the same form made codes already: its first answer holds them
        return _shown_before(AGAIN_RENEWED)
    if not isinstance(answer, list):
        return _refused_page((WRONG_CODE, SENT_AGAIN) if answer is Resend.REFUSED else (WRONG_CODE,), 400)
    keep_once(f"recovery:{person.uid}", " ".join(answer), created=False)
    return redirect(url_for("second_factor.enrol"))


def _renewal(uid: str) -> str:
    """What identifies this form for new recovery codes as sent (its CSRF token and submission id, the code)."""
    return submission("recovery", uid, request.form.get("submission", ""), request.form.get("code", ""))


def _renewed(uid: str, code: str) -> list[str] | None:
    """The new recovery codes, or None when the code was refused (counted as a failed login)."""
    return services().second_factor.regenerate_recovery(uid, code, request.remote_addr or "")


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
