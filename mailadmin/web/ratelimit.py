"""Login throttling: at most N failed attempts per user name and per client address in a window."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

MAX_KEYS = 10_000


class FailureLimiter:
    """Counts recent failures by key; a key over the limit is refused until its window slides."""

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, *keys: str) -> bool:
        """True if any key has used up its failures."""
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(key, now)) >= self.limit for key in keys)

    def fail(self, *keys: str) -> None:
        """Record one failure for every key (memory stays bounded: stale keys are dropped)."""
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > MAX_KEYS:
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[key]
            for key in keys:
                self._recent(key, now).append(now)

    def clear(self, *keys: str) -> None:
        """Forget the failures of keys (after a successful login)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
