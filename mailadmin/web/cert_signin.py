"""Certificate sign-in through the reverse proxy (services/client_certs.py): the headers, the peer, the route.

nginx (`deploy-config nginx`) sets X-Client-Certificate ($ssl_client_escaped_cert: the URL-encoded PEM) and
X-Client-Verify ($ssl_client_verify) on every request it passes on; without a certificate both are empty and
nginx then sends neither, nor what the client sent under those names. These headers are believed only when the
TCP peer is web.trusted_proxy: `behind_proxy` records the peer before waitress replaces REMOTE_ADDR with the
X-Forwarded-For address (which a client could choose).

POST /login/certificate is exempt from CSRF: nginx drops the body of a request whose certificate it refused
(error_page 495 passes it on without one, so that its reason can be shown), and the proof is the TLS client
certificate itself, which a forged cross-site request can only use to sign its own holder in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from flask import Blueprint, Flask, flash, render_template, request
from werkzeug.wrappers import Response

from mailadmin.i18n import Text, t
from mailadmin.services.auth import LoginOutcome, Result
from mailadmin.services.client_certs import Presented
from mailadmin.web import csrf, services
from mailadmin.web.auth import CodeForm, LoginForm, code_page, enter, login_page, pending_login
from mailadmin.web.language import say

bp = Blueprint("cert_signin", __name__)
CERTIFICATE_HEADER = "X-Client-Certificate"
VERIFY_HEADER = "X-Client-Verify"
PEER = "mailadmin.peer"  # the TCP peer's address, before any X-Forwarded-For
PROXY_HEADERS = {"x-forwarded-for", "x-forwarded-proto"}
NO_CERTIFICATE = t("Trình duyệt chưa gửi chứng thư số nào qua máy chủ trung gian: cắm USB token, đóng hết cửa sổ "
                   "trình duyệt rồi mở lại trang và chọn chứng thư khi được hỏi.",
                   "the browser sent no certificate through the reverse proxy: plug the USB token in, close every "
                   "browser window, open the page again and choose the certificate when asked.")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def init_app(app: Flask) -> None:
    """Register the route (CSRF-exempt, see above) and tell templates whether a certificate came."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.context_processor(lambda: {"certificate_presented": presented() is not None})


def behind_proxy(app: WSGIApp, trusted_proxy: str) -> WSGIApp:
    """What `mailadmin serve` runs: the TCP peer recorded, then waitress's X-Forwarded-For/-Proto from the proxy."""
    from waitress.proxy_headers import proxy_headers_middleware

    inner = proxy_headers_middleware(app, trusted_proxy=trusted_proxy, trusted_proxy_count=1,
                                     trusted_proxy_headers=PROXY_HEADERS, clear_untrusted=True) \
        if trusted_proxy else app

    def record_peer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ[PEER] = environ.get("REMOTE_ADDR", "")
        return inner(environ, start_response)
    return record_peer


def presented() -> Presented | None:
    """The certificate the trusted proxy passed on with this request; None without one or from another peer."""
    settings = services().settings
    trusted = settings.web.trusted_proxy
    peer = request.environ.get(PEER, request.environ.get("REMOTE_ADDR"))
    if not (settings.auth.certificate_sign_in and trusted and peer == trusted):
        return None
    pem = unquote(request.headers.get(CERTIFICATE_HEADER, ""))
    return Presented(pem, request.headers.get(VERIFY_HEADER, "")) if pem.strip() else None


@bp.route("/login/certificate", methods=["POST"])
def sign_in() -> str | Response | tuple[str, int]:
    """Sign in with the certificate: after the password (the second step), or alone for certificate-only roles."""
    pending = pending_login()
    shown = presented()
    if shown is None:
        return _again(NO_CERTIFICATE, 400, pending is not None)
    dn = pending["dn"] if pending is not None else None
    outcome = services().cert_signin.sign_in(shown, request.remote_addr or "", dn)
    if outcome.account is None:
        return _refused(outcome, pending is not None)
    holder = outcome.account.user
    if pending is not None:
        return enter(holder.uid, holder.name, pending["epoch"], bool(pending["must_change"]), passed=True)
    return enter(holder.uid, holder.name, holder.epoch, holder.must_change, passed=True)


def _refused(outcome: LoginOutcome, second_step: bool) -> str | tuple[str, int]:
    """Why the certificate did not sign in, on the page the person came from."""
    if outcome.result is Result.UNAVAILABLE:
        message = outcome.reason or t("Thư mục tài khoản (LDAP) đang không phản hồi.",
                                      "the account directory (LDAP) is not answering.")
        return render_template("errors/error.html", status=503, message=message), 503
    if outcome.result is Result.THROTTLED:
        minutes = services().logins.throttle.window // 60
        return _again(t("Quá nhiều lần đăng nhập sai; vui lòng thử lại sau {m} phút.",
                        "too many failed logins; try again in {m} minutes.", m=minutes), 429, second_step)
    reason = outcome.reason or t("Chứng thư số bị từ chối.", "the certificate was refused.")
    return _again(t("Không đăng nhập được bằng chứng thư số: {reason_vi}",
                    "the certificate did not sign you in: {reason_en}",
                    reason_vi=reason.render("vi"), reason_en=reason.render("en")), 401, second_step)


def _again(message: Text, status: int, second_step: bool) -> tuple[str, int]:
    flash(say(message), "error")
    return code_page(CodeForm(), status) if second_step else login_page(LoginForm(), status)
