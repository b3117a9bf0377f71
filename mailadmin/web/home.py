"""The dashboard (counts, per-unit counts, recent changes) and the self-service page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import login_required
from werkzeug.wrappers import Response

from mailadmin.i18n import t
from mailadmin.model import Role
from mailadmin.services.auth import Resend
from mailadmin.services.authz import require
from mailadmin.web import services
from mailadmin.web.auth import resent, submission
from mailadmin.web.display import TIER_NAMES
from mailadmin.web.guard import principal, roles_required, unit_by_code
from mailadmin.web.language import say
from mailadmin.web.once import (
    earlier_result,
    keep_browser_cookie,
    keep_once,
    new_submission,
    remember_result,
    take_once,
)

bp = Blueprint("home", __name__)
GLOBAL_READERS = (Role.SUPERADMIN, Role.AUDITOR)


@bp.route("/")
@login_required
def index() -> str | Response:
    person = principal()
    if not person.roles:
        return redirect(url_for("home.me"))
    board = services().dashboard
    scope = None if person.has(*GLOBAL_READERS) or not person.scopes else unit_by_code(person.scopes[0][-1])
    index_ = services().units.index()
    top = index_.children.get(scope.code if scope else None, [])
    if scope is None and len(top) == 1:  # the province itself: show its agencies and districts
        top = index_.children.get(top[0].code, [])
    totals = board.unit_totals()
    overview = board.overview(scope)
    unit_items = [(unit.name, totals.get(unit.code, 0)) for unit in top if person.may_read(unit)]
    tier_items = [(str(TIER_NAMES[tier]), count) for tier, count in overview.by_tier.items()]
    recent = board.recent_changes(10) if person.has(*GLOBAL_READERS) else []
    factors = services().cert_signin.coverage(services().second_factor.coverage()) \
        if person.has(*GLOBAL_READERS) else None
    days = services().settings.certificates.expiring_days
    expiring = services().certificates.expiring(days, principal=person)
    return render_template("home/index.html", overview=overview, scope=scope, unit_items=unit_items,
                           tier_items=tier_items, recent=recent, person=person, days=days,
                           holders=board.certificate_holders(scope), expiring=expiring, factors=factors,
                           unit_names={code: unit.name for code, unit in index_.units.items()})


@bp.route("/me")
@login_required
def me() -> str:
    """Self-service: one's own details and certificates; the password is changed at /password."""
    person = principal()
    mailbox = services().mailboxes.get(person.uid)
    token = services().tokens.state(person.uid) if person.roles else None
    return render_template("home/me.html", mailbox=mailbox, unit=unit_by_code(mailbox.unit_code),
                           person=person, client=mail_client_settings(mailbox.mail), token=token,
                           submission=new_submission())


def mail_client_settings(address: str) -> list[tuple[str, str]]:
    """(label, value) rows of a mail program's account settings for this address."""
    settings = services().settings
    clients, default_host = settings.mail_clients, f"mail.{settings.organisation.mail_domain}"
    return [(gettext("Địa chỉ thư"), address), (gettext("Tên đăng nhập"), address),
            (gettext("Máy chủ nhận thư (IMAP)"), clients.imap_host or default_host),
            (gettext("Cổng IMAP"), str(clients.imap_port)), (gettext("Bảo mật IMAP"), clients.imap_security),
            (gettext("Máy chủ gửi thư (SMTP)"), clients.smtp_host or default_host),
            (gettext("Cổng SMTP"), str(clients.smtp_port)), (gettext("Bảo mật SMTP"), clients.smtp_security),
            (gettext("Xác thực"), gettext("Mật khẩu thường (tên đăng nhập là địa chỉ thư)"))]


@bp.route("/me/token", methods=["GET", "POST"])
@login_required
def api_token() -> str | Response:
    """A new API token for people with a role (POST), shown once on the page it redirects to."""
    person = principal()
    require(bool(person.roles))
    if request.method == "POST":
        require(person.may_issue_api_token(bool(session.get("second_factor")),
                                           services().second_factor.required_roles))
        _issue_once(person.uid, request.form.get("submission", ""))
        return redirect(url_for("home.api_token"))
    kept = take_once(f"token:{person.uid}")
    return render_template("home/token.html", token=kept[0] if kept else None)


def _issue_once(uid: str, form: str) -> None:
    """Issue a token for this form unless it already did (F5, a double click): a second token would end the
    first one at once, and the page could show the one that no longer acts."""
    if not form:  # a form rendered before it carried a submission id
        return _issue(uid, form)
    if earlier_result(form) is not None or \
            resent().attempt(submission("token", uid, form), lambda: _issue(uid, form), lambda _: Resend.DONE) \
            is Resend.DONE:
        keep_browser_cookie()  # the first answer's cookie holds the token to show
    return None


def _issue(uid: str, form: str) -> None:
    """A new token, kept for the page the answer redirects to."""
    keep_once(f"token:{uid}", services().tokens.issue(uid), created=True)
    remember_result(form, "token")


@bp.route("/me/token/revoke", methods=["POST"])
@login_required
def revoke_own_token() -> Response:
    """The owner ends their API token at once (a script retired, a token pasted somewhere it should not be)."""
    person = principal()
    require(bool(person.roles))
    flash_revocation(services().tokens.revoke(person.uid))
    return redirect(url_for("home.me"))


@bp.route("/mailboxes/<uid>/api-token/revoke", methods=["POST"])
@login_required
@roles_required(Role.SUPERADMIN, Role.UNITADMIN)
def revoke_token(uid: str) -> Response:
    """Someone who may change this mailbox ends its owner's API token (a leaked one): audited."""
    flash_revocation(services().tokens.revoke_for(principal(), services().mailboxes.get(uid)))
    return redirect(url_for("mailboxes.show", uid=uid))


def flash_revocation(revoked: bool) -> None:
    """Say what a revocation did; a second one (F5, another tab) finds nothing and says so."""
    flash(say(t("Đã thu hồi mã truy cập API: mã này không còn dùng được.", "the API token is revoked: it acts no more.")
              if revoked else t("Không có mã truy cập API nào để thu hồi.", "there is no API token to revoke.")),
          "info")
