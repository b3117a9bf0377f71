"""API tokens: random bearer tokens kept only as SHA-256 digests in the state folder, one per person.

Each record keeps the person's session epoch at issue (maSessionEpoch): once it moves (logout,
password change or reset, suspension, retirement) the token acts no more, in every process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mailadmin.audit import AuditLog


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Issued:
    """Whom a token acts as, and the session epoch its person had when it was issued."""

    uid: str
    epoch: str


class TokenService:
    """Issues, resolves and revokes API tokens; a token acts as its owner with the owner's roles."""

    def __init__(self, path: Path, audit: AuditLog, epoch_of: Callable[[str], str]) -> None:
        self.path = path
        self.audit = audit
        self.epoch_of = epoch_of
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save(self, tokens: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            json.dump(tokens, handle)
        temporary.replace(self.path)

    def issue(self, uid: str) -> str:
        """A new token for `uid` (replacing any earlier one), returned once."""
        token = "ma_" + secrets.token_urlsafe(32)
        record = {"uid": uid, "epoch": self.epoch_of(uid), "created": datetime.now(UTC).isoformat(timespec="seconds")}
        with self._lock:
            tokens = {k: v for k, v in self._load().items() if v.get("uid") != uid}
            tokens[_digest(token)] = record
            self._save(tokens)
        self.audit.record("api.token_issue", uid, after={"uid": uid})
        return token

    def resolve(self, token: str) -> Issued | None:
        """Whom a token acts as and its epoch, or None (a record from before epochs has none: it never matches)."""
        if not token.startswith("ma_") or len(token) > 200:
            return None
        wanted = _digest(token)
        for digest, data in self._load().items():
            if hmac.compare_digest(digest, wanted) and data.get("uid"):
                return Issued(data["uid"], data.get("epoch", "\0"))
        return None

    def revoke(self, uid: str) -> None:
        """Drop the person's token."""
        with self._lock:
            self._save({k: v for k, v in self._load().items() if v.get("uid") != uid})
        self.audit.record("api.token_revoke", uid, before={"uid": uid})
