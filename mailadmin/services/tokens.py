"""API tokens: `ma_<uid>.<random>` bearer tokens, kept only as SHA-256 digests on their owner's entry.

The directory holds them (directory/api_tokens.py), so every web host on it, or on its replicas,
knows every token; the uid in the token finds the entry without searching for a secret. Each token
keeps the person's session epoch at issue (maSessionEpoch): once it moves (logout, password change
or reset, suspension, retirement) the token acts no more, on every host.

Tokens of the former file store (`ma_<random>`, `<state>/secrets/api-tokens.json`) are refused:
their owners make a new one on /me/token; a leftover file is only mentioned in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mailadmin.audit import AuditLog
from mailadmin.directory.api_tokens import ApiTokenStore, StoredToken
from mailadmin.errors import NotFound
from mailadmin.i18n import t
from mailadmin.model import Mailbox
from mailadmin.services.authz import Principal
from mailadmin.services.mailboxes import generalized_time

log = logging.getLogger(__name__)
PREFIX = "ma_"
MAX_LENGTH = 300
_NO_DIGEST = "0" * 64  # compared against when nothing is stored, so both refusals cost the same


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def owner_of(token: str) -> str | None:
    """The uid a token names, or None if it is not shaped like one of ours."""
    if not token.startswith(PREFIX) or len(token) > MAX_LENGTH or not token.isascii():
        return None
    uid, _, secret = token[len(PREFIX):].rpartition(".")
    return uid if uid and len(secret) >= 32 else None


def mention_leftover_file(path: Path) -> None:
    """Log that a token file of the former store is ignored (its tokens act no more)."""
    if path.exists():
        log.warning("%s is ignored: API tokens are kept in the directory now; their owners make new ones "
                    "on /me/token, and the file may be deleted", path)


@dataclass(frozen=True)
class Issued:
    """Whom a token acts as, and the session epoch its person had when it was issued."""

    uid: str
    epoch: str


@dataclass(frozen=True)
class TokenState:
    """What the pages show of a person's token: when it was issued, and whether it still acts."""

    issued: datetime | None
    active: bool


class TokenService:
    """Issues, resolves and revokes API tokens; a token acts as its owner with the owner's roles.

    `authorize(person, mailbox)` raises PermissionDenied unless the person may change that mailbox
    (services/mailboxes.py, authorize_change): the rule for revoking someone else's token.
    """

    def __init__(self, store: ApiTokenStore, audit: AuditLog, epoch_of: Callable[[str], str],
                 authorize: Callable[[Principal, Mailbox], object]) -> None:
        self.store = store
        self.audit = audit
        self.epoch_of = epoch_of
        self.authorize = authorize

    def issue(self, uid: str) -> str:
        """A new token for `uid` (replacing any earlier one, on every host), returned once."""
        token = f"{PREFIX}{uid}.{secrets.token_urlsafe(32)}"
        issued = datetime.now(UTC).strftime("%Y%m%d%H%M%SZ")
        if not self.store.replace(uid, StoredToken(_digest(token), issued, self.epoch_of(uid))):
            raise NotFound(t("Không có hộp thư {uid}", "no mailbox {uid}", uid=uid))
        self.audit.record("api.token_issue", uid, after={"uid": uid})
        return token

    def resolve(self, token: str) -> Issued | None:
        """Whom a token acts as and its epoch at issue, or None (unknown, replaced or malformed)."""
        uid = owner_of(token)
        stored = self.store.read(uid) if uid else None
        matches = hmac.compare_digest(stored.digest if stored else _NO_DIGEST, _digest(token))
        return Issued(uid, stored.epoch) if matches and uid and stored else None

    def state(self, uid: str) -> TokenState:
        """The person's token as the pages show it (issued None: there is none)."""
        stored = self.store.read(uid)
        if stored is None:
            return TokenState(None, active=False)
        return TokenState(generalized_time(stored.issued), active=stored.epoch == self.epoch_of(uid))

    def revoke(self, uid: str) -> bool:
        """Drop the person's token (audited); False if there was none (nothing recorded)."""
        removed = self.store.remove(uid)
        if removed:
            self.audit.record("api.token_revoke", uid, before={"uid": uid})
        return removed

    def revoke_for(self, person: Principal, mailbox: Mailbox) -> bool:
        """Someone who may change the mailbox drops its owner's token (a leaked one); False if there was none."""
        self.authorize(person, mailbox)
        return self.revoke(mailbox.uid)
