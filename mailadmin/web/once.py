"""POST/redirect/GET for forms that create something and show a secret once (new mailbox, password reset).

A POST that answered with the password page itself was created again by F5 (issue #12: hungnv17,
then hungnv18). Now the POST stores the outcome in the session and redirects; the GET page shows the
password once and forgets it. Flask's session is a signed, not encrypted, cookie: the password travels
there encrypted (Fernet, key derived from the app's secret key, so every web process reads it) and only
until the next page. Each form also carries a one-time submission id: a form sent again (back button,
resubmit) redirects to what the first one made instead of making it again.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, session
from flask.globals import request_ctx

ONCE_KEY = "shown_once"
SUBMITTED_KEY = "submitted"
KEPT_SUBMISSIONS = 20


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else str(secret).encode("utf-8")
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"mailadmin once-shown secret\0" + secret).digest()))


def keep_once(uid: str, secret: str | None, created: bool) -> None:
    """Remember what the next GET of the result page shows: the mailbox, the secret (encrypted), the kind."""
    token = _fernet().encrypt(secret.encode("utf-8")).decode("ascii") if secret else ""
    session[ONCE_KEY] = {"uid": uid, "secret": token, "created": created}


def take_once(uid: str) -> tuple[str | None, bool] | None:
    """(secret, created) kept for this mailbox, forgotten as it is read; None when already shown."""
    kept = session.get(ONCE_KEY)
    if not isinstance(kept, dict) or kept.get("uid") != uid:
        return None
    session.pop(ONCE_KEY)
    try:
        secret = _fernet().decrypt(kept["secret"].encode("ascii")).decode("utf-8") if kept.get("secret") else None
    except (InvalidToken, ValueError, KeyError):
        return None
    return secret, bool(kept.get("created"))


def new_submission() -> str:
    """A one-time id for a form about to be rendered."""
    return secrets.token_urlsafe(16)


def earlier_result(submission: str) -> str | None:
    """What an earlier POST of the same form made (a uid), or None for a first submission."""
    return dict(session.get(SUBMITTED_KEY, [])).get(submission) if submission else None


def remember_result(submission: str, result: str) -> None:
    """Record that this form's submission made `result` (the last few are kept in the session)."""
    if submission:
        kept = [pair for pair in session.get(SUBMITTED_KEY, []) if pair[0] != submission]
        session[SUBMITTED_KEY] = [*kept[-(KEPT_SUBMISSIONS - 1):], [submission, result]]


def keep_browser_cookie() -> None:
    """This answer sets no session cookie: the browser keeps the one the first answer to the same form gave.

    A double click's second request carries the cookie from before the first answer; sessions are
    refreshed on every answer (SESSION_REFRESH_EACH_REQUEST), so answering it would put that older
    cookie back over the one holding what the first answer keeps to show once."""
    request_ctx._session = current_app.session_interface.make_null_session(current_app)  # Flask saves no null session
