"""Login by LDAP bind of the person's own entry, throttled; forced password change; logout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from mailadmin.directory.mapping import LOCKED_FOREVER
from mailadmin.errors import InvalidInput, MailadminError, NotFound
from mailadmin.i18n import Text, t
from mailadmin.web import services
from mailadmin.web.language import say
from mailadmin.web.ratelimit import FailureLimiter
from mailadmin.web.redirects import safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
LOGIN_FAILURES_PER_WINDOW = 10
LOGIN_WINDOW_SECONDS = 300


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


class PasswordForm(FlaskForm):
    old_password = PasswordField("old_password", validators=[DataRequired(), Length(max=256)])
    new_password = PasswordField("new_password", validators=[DataRequired(), Length(max=256)])
    confirm = PasswordField("confirm", validators=[DataRequired(), EqualTo("new_password")])


def init_app(app: Flask) -> None:
    """Attach flask-login and the login throttle."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để mở trang này."
    login_manager.localize_callback = gettext
    app.extensions["mailadmin.login_limiter"] = FailureLimiter(LOGIN_FAILURES_PER_WINDOW, LOGIN_WINDOW_SECONDS)


@login_manager.user_loader
def load_user(uid: str) -> User | None:
    """The session's person, if their mailbox still exists and is active."""
    from mailadmin.web.guard import load_principal

    person = load_principal(uid)
    return User(person.uid, person.full_name) if person else None


def _limiter() -> FailureLimiter:
    return current_app.extensions["mailadmin.login_limiter"]


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 200 if request.method == "GET" else 401)
    name = (form.username.data or "").strip().lower()
    keys = (f"user:{name}", f"ip:{request.remote_addr}")
    if _limiter().blocked(*keys):
        flash(say(t("Quá nhiều lần đăng nhập sai; vui lòng thử lại sau {m} phút.",
                "too many failed logins; try again in {m} minutes.", m=LOGIN_WINDOW_SECONDS // 60)), "error")
        return _login_page(form, 429)
    user = authenticate(name, form.password.data or "")
    if user is None:
        _limiter().fail(*keys)
        flash(say(_failure_reason(name)), "error")
        return _login_page(form, 401)
    _limiter().clear(*keys)
    must_change, _ = services().mailboxes.store.password_state(_dn_of(user.uid))
    session.clear()
    session.permanent = True
    login_user(user)
    session["must_change"] = must_change
    if must_change:
        flash(say(t("Mật khẩu của bạn vừa được đặt lại: hãy đặt mật khẩu mới trước khi tiếp tục.",
                "your password was reset: set a new one before going on.")), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(_next_page())


def _next_page() -> str:
    """Where flask-login's `next` asked to go after the login (a local path), else home."""
    return safe_next(request.args.get("next"), url_for("home.index"))


def _login_page(form: LoginForm, status: int) -> tuple[str, int]:
    return render_template("auth/login.html", form=form, next_page=_next_page()), status


def _dn_of(uid: str) -> str:
    return services().mailboxes.store.find_entry(uid).dn


def _find(name: str) -> str | None:
    """The uid behind a user name or address, or None."""
    mailboxes = services().mailboxes
    try:
        mailbox = mailboxes.store.find_by_address(name) if "@" in name else mailboxes.get(name)
    except (NotFound, InvalidInput):
        return None  # an unreachable directory is not a wrong password: it answers 503
    return mailbox.uid if mailbox else None


def authenticate(username: str, password: str) -> User | None:
    """The user whose own entry binds with this password (uid or address), else None."""
    uid = _find(username.strip().lower())
    if uid is None:
        return None
    if not services().client.check_password(_dn_of(uid), password):
        return None
    mailbox = services().mailboxes.get(uid)
    return User(mailbox.uid, mailbox.name.full)


def _failure_reason(name: str) -> Text:
    """Why a login failed, as far as it may be told: locked accounts are explained."""
    generic = t("Sai tên đăng nhập hoặc mật khẩu.", "wrong user name or password.")
    uid = _find(name)
    if uid is None:
        return generic
    _, locked = services().mailboxes.store.password_state(_dn_of(uid))
    if locked == LOCKED_FOREVER:
        return t("Tài khoản đang bị tạm khóa hoặc đã thôi sử dụng; liên hệ quản trị đơn vị.",
                 "the account is suspended or retired; contact your unit's administrator.")
    if locked:
        minutes = services().settings.passwords.lockout_seconds // 60 or 1
        return t("Tài khoản bị khóa tạm thời do nhập sai mật khẩu nhiều lần; thử lại sau khoảng {m} phút "
                 "(lúc {at} UTC) hoặc liên hệ quản trị.",
                 "the account is locked after too many wrong passwords; try again in about {m} minutes "
                 "(locked at {at} UTC) or contact an administrator.", m=minutes, at=_when(locked))
    return generic


def _when(generalized: str) -> str:
    try:
        return datetime.strptime(generalized[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).strftime("%H:%M %d/%m/%Y")
    except ValueError:
        return generalized


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    """Change one's own password (forced after a reset by an administrator)."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services().mailboxes.change_own_password(current_user.uid, form.old_password.data or "",
                                                     form.new_password.data or "")
        except MailadminError as error:
            flash(say(error.message), "error")
            return render_template("auth/password.html", form=form), 400
        session["must_change"] = False
        flash(say(t("Đã đổi mật khẩu.", "password changed.")), "info")
        return redirect(url_for("home.index"))
    if request.method == "POST":
        flash(say(t("Hai mật khẩu mới không khớp hoặc thiếu thông tin.",
                "the two new passwords differ or a field is empty.")), "error")
        return render_template("auth/password.html", form=form), 400
    return render_template("auth/password.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
