"""Login throttling: at most N failed attempts per key in a window, counted for every process of the host.

The counts live in one SQLite file of the state folder, so the web processes and the SMTP workers
share them: a stranger's guesses spread over several processes or both services still meet one
limit, which stays below the directory's lockout threshold (services/auth.py). Keys are stored as
SHA-256 digests (people type passwords into the user name field).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

PRUNE_EVERY = 200  # failures recorded between two sweeps of expired rows
SCHEMA = "CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL)"
INDEX = "CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at)"


class FailureLimiter:
    """Counts recent failures by key; a key over the limit is refused until its window slides.

    Limiters sharing a file must share a window too: each one's sweep deletes every row older than its own.
    """

    def __init__(self, limit: int, window_seconds: float, path: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window_seconds
        self.path = path
        self.clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        self._recorded = 0

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # never reuse a connection across fork()
            self._db = _open(self.path)
            self._pid = os.getpid()
        return self._db

    def count(self, key: str) -> int:
        """Failures of a key within the window."""
        with self._lock:
            return self._count(_digest(key), self.clock())

    def _count(self, digest: str, now: float) -> int:
        row = self._connection().execute("SELECT COUNT(*) FROM failures WHERE key = ? AND at > ?",
                                          (digest, now - self.window)).fetchone()
        return int(row[0])

    def blocked(self, *keys: str) -> bool:
        """True if any key has used up its failures."""
        now = self.clock()
        with self._lock:
            return any(self._count(_digest(key), now) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        """Record one failure for every key (expired rows are swept now and then)."""
        now = self.clock()
        with self._lock, self._connection() as db:
            db.executemany("INSERT INTO failures (key, at) VALUES (?, ?)", [(_digest(k), now) for k in keys])
            self._recorded += 1
            if self._recorded % PRUNE_EVERY == 0:
                db.execute("DELETE FROM failures WHERE at <= ?", (now - self.window,))

    def clear(self, *keys: str) -> None:
        """Forget the failures of keys (after a successful login; no write when there are none)."""
        with self._lock:
            db = self._connection()
            digests = [(digest,) for digest in map(_digest, keys)
                       if db.execute("SELECT 1 FROM failures WHERE key = ? LIMIT 1", (digest,)).fetchone()]
            if digests:
                with db:
                    db.executemany("DELETE FROM failures WHERE key = ?", digests)


def _open(path: Path | None) -> sqlite3.Connection:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = sqlite3.connect(str(path) if path else ":memory:", timeout=10, check_same_thread=False)
    if path is not None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # a count lost in a power cut is harmless
    db.execute(SCHEMA)
    db.execute(INDEX)
    return db


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
