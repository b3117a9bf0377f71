"""The audit log: who changed what, when, before -> after. Append-only JSON lines, fsynced.

Every service that writes to the directory records one entry per change. The acting person
comes from a context variable that the web app sets per request and the CLI sets at start,
so services need no extra parameter and concurrent requests never mix their actors.
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

_actor: ContextVar[str] = ContextVar("mailadmin_actor", default="")


def current_actor() -> str:
    """Who is acting: 'web:<uid>', 'cli:<os user>', or 'system'."""
    return _actor.get() or f"cli:{_os_user()}"


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute every change inside the block to `actor`."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class AuditEntry:
    """One recorded change."""

    action: str                      # e.g. mailbox.create, mailbox.suspend, unit.rename
    target: str                      # what was changed: a uid, a unit code, a DN
    actor: str = ""
    at: str = ""                     # ISO 8601, UTC
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    unit: str = ""                   # the mailbox's unit, kept even when the change is not about it


Change = tuple[str, str, "dict[str, Any] | None", "dict[str, Any] | None"]  # action, target, before, after


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the audit log; empty ones match everything. Dates are ISO days, compared in UTC."""

    action: str = ""       # substring: "mailbox." or "mailbox.suspend"
    actor: str = ""        # substring: "web:quantri", "import"
    target: str = ""       # substring of the target
    subject: str = ""      # exact target (a mailbox's history)
    unit: str = ""         # a unit code: entries about it or about mailboxes in it (before or after)
    since: str = ""        # first day, YYYY-MM-DD
    until: str = ""        # last day, YYYY-MM-DD

    def matches(self, entry: AuditEntry) -> bool:
        """True if the entry passes every filter."""
        return (self.action in entry.action.lower() and self.actor in entry.actor.lower()
                and self.target in entry.target.lower() and (not self.subject or entry.target == self.subject)
                and (not self.since or entry.at[:10] >= self.since) and (not self.until or entry.at[:10] <= self.until)
                and (not self.unit or self.unit in _units_of(entry)))


def _units_of(entry: AuditEntry) -> set[str]:
    """The unit codes an entry is about: its target when a unit changed, the mailbox's unit before and after."""
    codes = {str(side.get(key)) for side in (entry.before, entry.after) for key in ("unit_code", "unit", "parent")
             if side.get(key)}
    return codes | ({entry.target} if entry.action.startswith("unit.") else set()) | ({entry.unit} - {""})


AUDIT_CHUNK = 1000


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entry(change: Change, actor: str, at: str) -> AuditEntry:
    """One audit entry; its unit is the one after the change, else the one before."""
    action, target, before, after = change
    return AuditEntry(action, target, actor, at, *_changed(before or {}, after or {}),
                      unit=str((after or {}).get("unit_code") or (before or {}).get("unit_code") or ""))


class AuditLog:
    """An append-only file of JSON lines; writes are serialised and fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, action: str, target: str, before: dict[str, Any] | None = None,
               after: dict[str, Any] | None = None) -> AuditEntry:
        """Append one entry (the actor and time are filled in here)."""
        entry = _entry((action, target, before, after), current_actor(), _now())
        self._append([[entry]])
        return entry

    def record_many(self, changes: Iterable[Change]) -> int:
        """Append several entries with one write lock and one fsync; how many.

        Built and written AUDIT_CHUNK at a time: an import's 100,000 rows never sit in memory at once.
        """
        actor, at = current_actor(), _now()
        counted = [0]

        def chunks() -> Iterator[list[AuditEntry]]:
            iterator = iter(changes)
            while chunk := [_entry(change, actor, at) for change in islice(iterator, AUDIT_CHUNK)]:
                counted[0] += len(chunk)
                yield chunk
        self._append(chunks())
        return counted[0]

    def _append(self, chunks: Iterable[list[AuditEntry]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # several processes (web, CLI) may append
            for chunk in chunks:
                handle.write("".join(json.dumps(vars(entry), ensure_ascii=False, default=str) + "\n"
                                     for entry in chunk))
            handle.flush()
            os.fsync(handle.fileno())

    def search(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries matching every filter of `query`, newest first."""
        found = [entry for entry in self.entries() if query.matches(entry)]
        found.reverse()
        return found

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield AuditEntry(**json.loads(line))


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ (all of them for a create or delete)."""
    if not before or not after:
        return before, after
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
