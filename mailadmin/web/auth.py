"""Login by LDAP bind of the person's own entry; logout."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from mailadmin.errors import NotFound
from mailadmin.web import services

bp = Blueprint("auth", __name__)
login_manager = LoginManager()


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


def init_app(app: Flask) -> None:
    """Attach flask-login."""
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập / please log in"


@login_manager.user_loader
def load_user(uid: str) -> User | None:
    try:
        mailbox = services().mailboxes.get(uid)
    except NotFound:
        return None
    return User(mailbox.uid, mailbox.name.full)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data or "", form.password.data or "")
        if user is not None:
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(url_for("home.index"))
        flash("Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị khóa. "
              "(Wrong user name or password, or the account is locked.)", "error")
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" else 401


def authenticate(username: str, password: str) -> User | None:
    """The user whose own entry binds with this password (uid or address), else None."""
    mailboxes = services().mailboxes
    name = username.strip().lower()
    try:
        mailbox = mailboxes.store.find_by_address(name) if "@" in name else mailboxes.get(name)
    except NotFound:
        mailbox = None
    if mailbox is None:
        return None
    dn = mailboxes.store.find_entry(mailbox.uid).dn
    if not services().client.check_password(dn, password):
        return None
    return User(mailbox.uid, mailbox.name.full)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
