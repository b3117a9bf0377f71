"""API tokens: random bearer tokens kept only as SHA-256 digests in the state folder, one per person."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from mailadmin.audit import AuditLog


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class TokenService:
    """Issues, resolves and revokes API tokens; a token acts as its owner with the owner's roles."""

    def __init__(self, path: Path, audit: AuditLog) -> None:
        self.path = path
        self.audit = audit
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
        with self._lock:
            tokens = {k: v for k, v in self._load().items() if v.get("uid") != uid}
            tokens[_digest(token)] = {"uid": uid, "created": datetime.now(UTC).isoformat(timespec="seconds")}
            self._save(tokens)
        self.audit.record("api.token_issue", uid, after={"uid": uid})
        return token

    def resolve(self, token: str) -> str | None:
        """The uid a token acts as, or None."""
        if not token.startswith("ma_") or len(token) > 200:
            return None
        wanted = _digest(token)
        for digest, data in self._load().items():
            if hmac.compare_digest(digest, wanted):
                return data.get("uid")
        return None

    def revoke(self, uid: str) -> None:
        """Drop the person's token."""
        with self._lock:
            self._save({k: v for k, v in self._load().items() if v.get("uid") != uid})
        self.audit.record("api.token_revoke", uid, before={"uid": uid})
