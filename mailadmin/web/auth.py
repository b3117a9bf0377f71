"""Login through the one login service (services/auth.py); a second step for a second factor; forced
password change; logout.

For a person who enrolled a second factor the right password only opens /login/code (a pending login
kept 5 minutes in the session); the session logs in once a TOTP or recovery code is accepted
(services/second_factor.py) and remembers that it passed ("second_factor": API tokens need it).

A session carries the person's session epoch (maSessionEpoch) from the login on; every request
compares it with the directory's (web/guard.py), so logout, a password change or reset, a
suspension or a retirement ends every session of that person in every web process.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from mailadmin.errors import MailadminError, PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.services.auth import (
    LoginOutcome,
    LoginService,
    Resend,
    ResentForms,
    Result,
)
from mailadmin.services.second_factor import Check
from mailadmin.web import services
from mailadmin.web.error_pages import Answer, csrf_error
from mailadmin.web.language import say
from mailadmin.web.once import new_submission
from mailadmin.web.redirects import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
UNAVAILABLE = t("Thư mục tài khoản (LDAP) đang không phản hồi nên chưa kiểm tra được mật khẩu; vui lòng thử lại "
                "sau ít phút. Lần thử này không bị tính là sai.",
                "the account directory (LDAP) is not answering, so the password could not be checked; try again "
                "in a few minutes. This attempt does not count as a failure.")
PENDING_SECONDS = 300  # how long the code page waits after the password
CERTIFICATE_ONLY = t("Vai trò của bạn đăng nhập trang quản trị bằng chứng thư số (USB token), không bằng mật khẩu: "
                     "cắm token, chọn chứng thư khi trình duyệt hỏi rồi bấm \"Đăng nhập bằng chứng thư số\".",
                     "your role signs in to the web admin with your digital certificate (USB token), not the "
                     "password: plug the token in, choose the certificate when the browser asks, then press "
                     "\"Sign in with a digital certificate\".")

WRONG_OLD_PASSWORD = t("Mật khẩu hiện tại không đúng (sau nhiều lần sai, tài khoản bị tạm khóa); mật khẩu chưa đổi.",
                       "the current password is wrong (after several wrong ones the account is locked for a while); "
                       "the password is unchanged.")
WRONG_LOGIN = t("Sai tên đăng nhập hoặc mật khẩu.", "wrong user name or password.")
SENT_AGAIN = t("Biểu mẫu này vừa được gửi lại y hệt nên không tính thêm một lần sai.",
               "this very form was sent again, so it does not count as another wrong password.")


@dataclass
class User(UserMixin):
    """The logged-in person: a mailbox owner."""

    uid: str
    full_name: str

    def get_id(self) -> str:
        return self.uid


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=128)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=256)])


class CodeForm(FlaskForm):
    code = StringField("code", validators=[DataRequired(), Length(max=64)])


class PasswordForm(FlaskForm):
    old_password = PasswordField("old_password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("new_password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("confirm", validators=[DataRequired(), EqualTo("new_password")])


def init_app(app: Flask) -> None:
    """Attach flask-login; the login throttle is counted in the state folder (in memory for the test client)."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để mở trang này."
    login_manager.localize_callback = gettext
    app.add_template_filter(local_time, "localtime")
    if app.testing:  # one state folder serves a whole test session: each test app counts its own failures
        app.extensions["mailadmin"].login_throttle_path = None


@login_manager.user_loader
def load_user(uid: str) -> User | None:
    """The session's person, if their mailbox is still active and the session's epoch still current."""
    from mailadmin.web.guard import load_principal

    person = load_principal(uid, session.get("epoch"))
    return User(person.uid, person.full_name) if person else None


def _logins() -> LoginService:
    return services().logins


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if not form.validate_on_submit():
        return login_page(form, 200 if request.method == "GET" else 401)
    outcome = _login_once(form.username.data or "", form.password.data or "")
    if isinstance(outcome, Resend):  # refused before (a success is not recorded: sent again, it is checked again)
        flash(say(_with_reason(WRONG_LOGIN, SENT_AGAIN)), "error")
        return login_page(form, 401)
    if outcome.account is None:
        return _refused(form, outcome)
    holder, must_change = outcome.account.user, outcome.result is Result.MUST_CHANGE
    certificates = services().cert_signin
    if certificates.alone_for(holder):  # said only after the right password
        flash(say(CERTIFICATE_ONLY), "error")
        return login_page(form, 403)
    if certificates.needs_second_step(holder):  # the password alone does not log in: the second step comes next
        session.clear()
        session["pending"] = {"uid": holder.uid, "dn": holder.dn, "name": holder.name, "at": time.time(),
                              "epoch": outcome.account.epoch, "must_change": must_change or holder.must_change,
                              "totp": holder.second_factor}
        return redirect(url_for("auth.second_factor", next=request.args.get("next")))
    return enter(holder.uid, holder.name, outcome.account.epoch, must_change or holder.must_change, passed=False)


def _login_once(username: str, password: str) -> LoginOutcome | Resend:
    """The login's outcome; the same form sent again (F5 on a refusal, a double click) after a wrong password is
    not bound again, so it counts once toward the throttle and slapd's lockout."""
    return resent().attempt(submission("login", request.form.get("submission", ""), username, password),
                            lambda: _logins().login(username, password, request.remote_addr or ""),
                            lambda outcome: Resend.REFUSED if outcome.result is Result.REFUSED else None)


def pending_login() -> dict | None:
    """The login whose password was proven in the last 5 minutes and awaits its second step, or None."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending", None)
        return None
    return pending


@bp.route("/login/code", methods=["GET", "POST"])
def second_factor() -> str | Response | tuple[str, int]:
    """The second step of a login for people with a second factor: a TOTP code, a recovery code or a certificate."""
    pending = pending_login()
    if pending is None:
        flash(say(t("Hãy đăng nhập lại bằng mật khẩu.", "log in again with your password.")), "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if not form.validate_on_submit():
        return code_page(form, 200 if request.method == "GET" else 401)
    result = _check_code_once(pending, form.code.data or "")
    if result is Resend.DONE:  # a double click: the first request logged in; its cookie is left as it is
        return redirect(_next_page())
    if result in (Check.WRONG, Check.THROTTLED, Resend.REFUSED):
        return _code_refused(form, result)
    response = enter(pending["uid"], pending["name"], pending["epoch"], bool(pending["must_change"]), passed=True)
    if result is Check.RECOVERY:  # said after enter, which starts a new session
        flash(say(t("Đã dùng một mã khôi phục; mã đó không dùng lại được. Nếu mất điện thoại, hãy tắt rồi đăng ký "
                    "lại yếu tố thứ hai ở trang Tài khoản của tôi.",
                    "a recovery code was used and cannot be used again. If the phone is lost, disable and enrol "
                    "the second factor again on My account.")), "info")
    return response


def _check_code_once(pending: dict, code: str) -> Check | Resend:
    """The code's check; the same code form sent again is not checked (nor counted) again: a used code
    would be refused the second time although the first logged in."""
    return resent().attempt(submission("code", pending["uid"], str(pending.get("at", "")), code),
                            lambda: services().second_factor.check(pending["uid"], pending["dn"], code,
                                                                   request.remote_addr or ""),
                            lambda check: Resend.REFUSED if check is Check.WRONG else
                            None if check is Check.THROTTLED else Resend.DONE)


def code_page(form: CodeForm, status: int) -> tuple[str, int]:
    """The second step's page (a code form if the person enrolled TOTP; the certificate button if one came)."""
    pending = session.get("pending") or {}
    return render_template("auth/code.html", form=form, next_page=_next_page(),
                           totp=bool(pending.get("totp", True))), status


def _code_refused(form: CodeForm, result: Check | Resend) -> tuple[str, int]:
    """The code page again with why (a wrong code counts as a failed login)."""
    if result is Check.THROTTLED:
        minutes = _logins().throttle.window // 60
        flash(say(t("Quá nhiều lần đăng nhập sai; vui lòng thử lại sau {m} phút.",
                    "too many failed logins; try again in {m} minutes.", m=minutes)), "error")
        return code_page(form, 429)
    wrong = t("Mã không đúng, đã dùng rồi hoặc đã hết hạn.", "the code is wrong, already used or expired.")
    flash(say(_with_reason(wrong, SENT_AGAIN) if result is Resend.REFUSED else wrong), "error")
    return code_page(form, 401)


def enter(uid: str, name: str, epoch: str, must_change: bool, *, passed: bool) -> Response:
    """A new session carrying the person's session epoch and whether it passed a second factor."""
    session.clear()
    session.permanent = True
    login_user(User(uid, name))
    session["epoch"] = epoch
    session["must_change"] = must_change
    session["second_factor"] = passed
    if must_change:
        flash(say(t("Mật khẩu của bạn vừa được đặt lại: hãy đặt mật khẩu mới trước khi tiếp tục.",
                "your password was reset: set a new one before going on.")), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(_next_page())


def _next_page() -> str:
    """Where flask-login's `next` asked to go after the login (a local path), else home."""
    return safe_next(request.args.get("next"), url_for("home.index"))


def login_page(form: LoginForm, status: int) -> tuple[str, int]:
    """The login page with `status` (and whatever was flashed)."""
    return render_template("auth/login.html", form=form, next_page=_next_page(), submission=new_submission()), status


def _refused(form: LoginForm, outcome: LoginOutcome) -> tuple[str, int]:
    """The login page with what may be said about the refusal, and its status."""
    if outcome.result is Result.UNAVAILABLE:
        message = _with_reason(UNAVAILABLE, outcome.reason) if outcome.reason else UNAVAILABLE
        return render_template("errors/error.html", status=503, message=message), 503
    message, status = _reason(outcome)
    flash(say(message), "error")
    return login_page(form, status)


def _with_reason(message: Text, reason: Text) -> Text:
    """Both messages, each language with its own (the reason says what to fix: a refused certificate…)."""
    return t("{a} {b}", "{c} {d}", a=message.render("vi"), b=reason.render("vi"), c=message.render("en"),
             d=reason.render("en"))


def _reason(outcome: LoginOutcome) -> tuple[Text, int]:
    if outcome.result is Result.THROTTLED:
        minutes = _logins().throttle.window // 60
        return t("Quá nhiều lần đăng nhập sai; vui lòng thử lại sau {m} phút.",
                 "too many failed logins; try again in {m} minutes.", m=minutes), 429
    if outcome.result is Result.LOCKED and outcome.locked_until is None:
        return t("Tài khoản đang bị tạm khóa hoặc đã thôi sử dụng; liên hệ quản trị đơn vị.",
                 "the account is suspended or retired; contact your unit's administrator."), 401
    if outcome.result is Result.LOCKED:
        return t("Tài khoản bị khóa tạm thời do nhập sai mật khẩu nhiều lần; thử lại sau {at} (giờ Việt Nam) "
                 "hoặc liên hệ quản trị để mở khóa.",
                 "the account is locked after too many wrong passwords; try again after {at} (Vietnam time) "
                 "or ask an administrator to unlock it.", at=local_time(outcome.locked_until)), 401
    return WRONG_LOGIN, 401


def local_time(moment: datetime | None) -> str:
    """A moment as people in the province read it (Asia/Ho_Chi_Minh)."""
    return moment.astimezone(LOCAL_TIME).strftime("%H:%M %d/%m/%Y") if moment else ""


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password (forced after a reset by an administrator)."""
    form = PasswordForm()
    if form.validate_on_submit():
        return _change_password(form)
    if request.method == "POST":
        return _password_refused(form, t("Hai mật khẩu mới không khớp hoặc thiếu thông tin.",
                                         "the two new passwords differ or a field is empty."))
    return render_template("auth/password.html", form=form)


def _change_password(form: PasswordForm) -> Response | tuple[str, int]:
    """Try the change once per submission: the same form sent again (F5, a double click) is not bound again."""
    uid, old, new = current_user.uid, form.old_password.data or "", form.new_password.data or ""
    answer = resent().attempt(submission("password", uid, old, new), lambda: _change(uid, old, new),
                              lambda why: Resend.DONE if why is None else
                              Resend.REFUSED if why is WRONG_OLD_PASSWORD else None)
    if answer is Resend.REFUSED:
        return _password_refused(form, _with_reason(WRONG_OLD_PASSWORD, SENT_AGAIN))
    if isinstance(answer, Text):
        return _password_refused(form, answer)
    # The change moved the session epoch (every other session and token has ended); this one goes on.
    holder = services().roles.holder(uid)
    session["epoch"] = holder.epoch if holder else None
    session["must_change"] = False
    flash(say(t("Đã đổi mật khẩu; mọi phiên đăng nhập và mã API khác của bạn đã kết thúc.",
                "password changed; every other session and API token of yours has ended.")), "info")
    return redirect(url_for("home.index"))


def _change(uid: str, old: str, new: str) -> Text | None:
    """Change the password; None when done, else why not."""
    try:
        services().mailboxes.change_own_password(uid, old, new)
    except PermissionDenied:  # the refused bind (wrong old password, or locked): the refusal that counts
        return WRONG_OLD_PASSWORD
    except MailadminError as error:
        return error.message
    return None


def resent() -> ResentForms:
    """Where the web processes of this host recognise a form sent again."""
    return services().logins.throttle.resent


def submission(*fields: str) -> str:
    """What identifies a sent form (its token and fields), keyed with the app's secret: no password kept as typed."""
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    text = "\0".join((request.form.get("csrf_token", ""), *fields))
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _password_refused(form: PasswordForm, message: Text) -> tuple[str, int]:
    flash(say(message), "error")
    return render_template("auth/password.html", form=form), 400


@bp.errorhandler(CSRFError)
def stale_form(error: CSRFError) -> Response | Answer:
    """A form whose session has gone: a logout sent again after it ended shows the login page, a login sent
    again once logged in goes on; any other is the "reload the form" page."""
    if request.endpoint == "auth.logout" and not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if request.endpoint == "auth.login" and current_user.is_authenticated:
        return redirect(_next_page())
    return csrf_error(error)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    """End the session here and, by moving the session epoch, every copy of its cookie and every token."""
    uid = current_user.uid
    logout_user()
    session.clear()
    services().mailboxes.end_sessions(uid)
    return redirect(url_for("auth.login"))
