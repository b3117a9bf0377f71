"""Quota use as the mail store reports it: Dovecot's doveadm HTTP API (`quota get`), asked with a short timeout.

Dovecot counts what its quota plugin sees (the `count` backend: its mailbox indexes, which also take in
mail our smtpd or Postfix wrote straight into the Maildir); the directory only knows the limit. Usage is
never a reason for a slow or failed page: an unset URL, a stopped, hung or refusing Dovecot all become
a state the page names.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from http.client import HTTPException
from pathlib import Path
from typing import Any

from mailadmin.settings import Settings

log = logging.getLogger(__name__)
MAX_ANSWER_BYTES = 64 * 1024
HUNG_PAUSE_SECONDS = 30  # after a timeout, do not make every page wait for the same hung server


class UsageState(StrEnum):
    """Whether the mail store told us the usage."""

    OFF = "off"  # mailstore.doveadm_url is empty: nobody asks
    UNAVAILABLE = "unavailable"  # asked, no usable answer (stopped, hung, refused, unknown mailbox)
    REPORTED = "reported"


@dataclass(frozen=True)
class QuotaUse:
    """Storage used and its limit in bytes (limit None: unlimited), as the mail store counts them."""

    state: UsageState
    used_bytes: int = 0
    limit_bytes: int | None = None

    @property
    def percent(self) -> float | None:
        """Share of the limit in use (None without a limit)."""
        if not self.limit_bytes:
            return None
        return 100 * self.used_bytes / self.limit_bytes


OFF = QuotaUse(UsageState.OFF)
UNAVAILABLE = QuotaUse(UsageState.UNAVAILABLE)


def default_key_file(settings: Settings) -> Path:
    """mailstore.doveadm_key_file, or <state>/secrets/doveadm-api.key when empty."""
    configured = settings.mailstore.doveadm_key_file
    return settings.resolve(configured) if configured else settings.state_dir / "secrets" / "doveadm-api.key"


class MailStore:
    """Reads quota use from Dovecot's doveadm HTTP API; one POST per question, no retries."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.mailstore.doveadm_url
        self.key_file = default_key_file(settings)
        self.timeout = max(1, settings.mailstore.timeout_seconds)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via http_proxy
        self._paused_until = 0.0

    def quota_use(self, uid: str) -> QuotaUse:
        """The mailbox's storage use and limit, or why they are not known."""
        if not self.url:
            return OFF
        if time.monotonic() < self._paused_until:
            return UNAVAILABLE
        try:
            return _storage(self._ask("quotaGet", {"user": uid}))
        except (OSError, HTTPException, ValueError) as error:
            if _timed_out(error):
                self._paused_until = time.monotonic() + HUNG_PAUSE_SECONDS
            log.warning("doveadm API at %s: no quota use for %s: %s", self.url, uid, error)
        return UNAVAILABLE

    def _ask(self, command: str, parameters: dict[str, str]) -> Any:
        """One doveadm command; the payload of its doveadmResponse (ValueError for an error answer)."""
        body = json.dumps([[command, parameters, "mailadmin"]]).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"X-Dovecot-API {self._key()}"})
        with self._opener.open(request, timeout=self.timeout) as answer:
            return _payload(json.loads(answer.read(MAX_ANSWER_BYTES)))

    def _key(self) -> str:
        key = self.key_file.read_text(encoding="utf-8").strip()
        return base64.b64encode(key.encode()).decode()


def _timed_out(error: Exception) -> bool:
    """A hung server: the read timed out, or the connect did (urllib wraps that one in URLError)."""
    return isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError)


def _payload(answer: Any) -> Any:
    """[["doveadmResponse", payload, tag]] -> payload; [["error", {...}, tag]] -> ValueError."""
    if not isinstance(answer, list) or not answer or not isinstance(answer[0], list) or len(answer[0]) < 2:
        raise ValueError(f"unexpected answer {str(answer)[:200]}")
    kind, payload = answer[0][0], answer[0][1]
    if kind != "doveadmResponse":
        raise ValueError(f"doveadm answered {kind}: {str(payload)[:200]}")
    return payload


def _storage(rows: Any) -> QuotaUse:
    """The STORAGE row of `quota get` (values in KiB; limit "-" or "": none)."""
    for row in rows if isinstance(rows, list) else ():
        if isinstance(row, dict) and row.get("type") == "STORAGE":
            limit = str(row.get("limit", "")).strip()
            return QuotaUse(UsageState.REPORTED, int(row.get("value", 0)) * 1024,
                            int(limit) * 1024 if limit.isdigit() else None)
    raise ValueError(f"no STORAGE quota in {str(rows)[:200]}")
