"""The web's one error path: every failure becomes a page (or JSON under /api/) with a correlation id.

An error page must work when what failed is the directory itself: server errors use a plain page
that never extends base.html (whose menu asks the directory who is logged in), and a 4xx page that
trips over the directory while rendering falls back to the plain 503 page. The id is in the answer
and in the log, where a server error also leaves its traceback; the person sees neither trace nor
exception text.
"""

from __future__ import annotations

import logging
import uuid

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from mailadmin.errors import (
    Conflict,
    DirectoryUnavailable,
    InvalidInput,
    MailadminError,
    NotFound,
    PermissionDenied,
)
from mailadmin.i18n import Text, t

log = logging.getLogger(__name__)
STATUS_OF_ERROR = {NotFound: 404, Conflict: 409, InvalidInput: 400, PermissionDenied: 403,
                   DirectoryUnavailable: 503}
UNEXPECTED = t("Đã có lỗi không lường trước; không có thay đổi nào bị ghi dở. Vui lòng thử lại.",
               "An unexpected error occurred; nothing was half-written. Please try again.")
DIRECTORY_DOWN = t("Thư mục LDAP tạm thời không truy cập được; vui lòng thử lại sau ít phút.",
                   "The directory (LDAP) cannot be reached at the moment; please try again in a few minutes.")
HTTP_TEXTS = {
    400: t("Yêu cầu không hợp lệ", "bad request"),
    401: t("Cần đăng nhập", "authentication required"),
    403: t("Không được phép", "forbidden"),
    404: t("Không có địa chỉ này", "no such resource"),
    405: t("Phương thức không được phép với địa chỉ này", "method not allowed for this resource"),
    413: t("Yêu cầu quá lớn", "request too large"),
}
# On a page, a wrong method is nearly always a button's address typed or bookmarked (GET /logout).
PAGE_TEXTS = {405: t("Địa chỉ này dành cho một nút bấm trên trang, không mở trực tiếp được.",
                     "this address belongs to a button on a page and cannot be opened directly.")}
RETRY_SECONDS = "30"
Answer = tuple[Response | str, int] | Response


def init_app(app: Flask) -> None:
    """Route every exception through this module (the import upload-size page keeps its own)."""
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(MailadminError, domain_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)


def status_of(error: MailadminError) -> int:
    """The HTTP status of a domain error (500 for the ones a person cannot act on)."""
    return next((code for kind, code in STATUS_OF_ERROR.items() if isinstance(error, kind)), 500)


def domain_error(error: MailadminError) -> Answer:
    """A domain error: its own message for 4xx, the directory page for 503, else unexpected."""
    status = status_of(error)
    if status == 503:
        return _failure(503, DIRECTORY_DOWN, error, traceback=False, detail=error.message)
    if status >= 500:
        return _failure(500, UNEXPECTED, error, traceback=True)
    return respond(status, error.message, _correlation(status, error))


def http_error(error: HTTPException) -> Answer:
    """Routing and protocol errors (404, 405, 413…): JSON under /api/, the error page elsewhere."""
    status = error.code or 500
    if status >= 500:
        return _failure(status, UNEXPECTED, error, traceback=True)
    message = HTTP_TEXTS.get(status) if _wants_json() else PAGE_TEXTS.get(status)
    return _with_headers(respond(status, message, _correlation(status, error)), error)


def _with_headers(answer: Answer, error: HTTPException) -> Answer:
    """Keep what HTTP asks of the error (a 405's Allow, a 401's WWW-Authenticate), not werkzeug's English page."""
    response = make_response(answer)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def unexpected_error(error: Exception) -> Answer:
    """Anything else is a bug: logged with its traceback, a plain page or JSON for the person."""
    return _failure(500, UNEXPECTED, error, traceback=True)


def json_error(status: int, message: Text, correlation: str | None = None) -> tuple[Response, int]:
    """An API error: English and Vietnamese message, status and correlation id."""
    return jsonify(error=message.render("en"), error_vi=message.render("vi"), status=status,
                   correlation_id=correlation or new_correlation_id()), status


def respond(status: int, message: Text | None, correlation: str, reason: str | None = None,
            detail: Text | None = None) -> Answer:
    """An error answer in the form the client reads: JSON for the API, a page otherwise.

    `detail` is the precise cause under a general message (which server, what TLS refused).
    """
    if _wants_json():
        return json_error(status, detail or message or HTTP_TEXTS.get(status, UNEXPECTED), correlation)
    if status >= 500:
        return _plain(status, message or UNEXPECTED, correlation, detail)
    return _full_page(status, message, correlation, reason)


def csrf_error(error: HTTPException) -> Answer:
    """An expired or missing form token: the page says to reload the form."""
    return respond(400, None, _correlation(400, error), reason="csrf")


def new_correlation_id() -> str:
    """A short random id that ties an answer to its log line."""
    return uuid.uuid4().hex[:12]


def _failure(status: int, message: Text, error: Exception, *, traceback: bool, detail: Text | None = None) -> Answer:
    correlation = new_correlation_id()
    cause = error.message.both() if isinstance(error, MailadminError) else type(error).__name__
    log.log(logging.ERROR if traceback else logging.WARNING, "error %s: %s %s → %d: %s", correlation,
            request.method, request.path, status, cause, exc_info=error if traceback else None)
    answer = respond(status, message, correlation, detail=detail)
    if status == 503:
        response = answer[0] if isinstance(answer, tuple) else answer
        if isinstance(response, Response):
            response.headers["Retry-After"] = RETRY_SECONDS
    return answer


def _correlation(status: int, error: Exception) -> str:
    correlation = new_correlation_id()
    log.info("error %s: %s %s → %d: %s", correlation, request.method, request.path, status, error)
    return correlation


def _full_page(status: int, message: Text | None, correlation: str, reason: str | None) -> Answer:
    """The error page inside the site's layout; the plain one if the layout itself fails."""
    try:
        return render_template("errors/error.html", status=status, message=message, reason=reason,
                               correlation=correlation), status
    except DirectoryUnavailable as error:
        return _failure(503, DIRECTORY_DOWN, error, traceback=False, detail=error.message)
    except Exception as error:  # the layout failed: the plain page still answers
        return _failure(500, UNEXPECTED, error, traceback=True)


def _plain(status: int, message: Text, correlation: str, detail: Text | None) -> tuple[Response, int]:
    # Straight from the environment: render_template runs the context processors, and
    # flask-login's loads the logged-in person from the directory.
    template = current_app.jinja_env.get_template("errors/plain.html")
    page = template.render(status=status, message=message, detail=detail, correlation=correlation)
    return Response(page, status=status, mimetype="text/html"), status


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")
