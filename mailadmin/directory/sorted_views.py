"""Sorted result lists the server keeps between page requests (sssvlv VLV contexts).

slapd's sssvlv overlay sorts a whole result in memory and keeps it on the connection that asked,
answering later VLV requests that carry the same context from that sorted list: a page of a
100,000-entry list then costs a walk and 50 entry reads instead of a fresh sort. A kept list is a
snapshot, so each one remembers the directory's change stamp (slapd's counts of completed client
writes, DirectoryClient.change_stamp) and is dropped as soon as a client has written anything since,
or after `max_age` seconds, whichever comes first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class KeptView:
    """One sorted list held by the server: its connection, context and the stamp it was made at."""

    connection: Any
    context: bytes
    stamp: str
    created: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class SortedViews:
    """At most `capacity` kept lists, least recently used first out; each used by one thread at a time."""

    def __init__(self, capacity: int, close: Callable[[Any], None], max_age: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.max_age = max_age
        self._close_connection = close
        self._clock = clock
        self._views: OrderedDict[Hashable, KeptView] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._views)

    @contextmanager
    def borrow(self, key: Hashable, stamp: str) -> Iterator[KeptView | None]:
        """The kept list for `key` if still current at `stamp`, locked for the caller; else None."""
        with self._lock:
            view = self._views.get(key)
            if view is not None and (view.stamp != stamp or self._clock() - view.created > self.max_age):
                del self._views[key]
                stale, view = view, None
            else:
                stale = None
                if view is not None:
                    self._views.move_to_end(key)
        if stale is not None:
            self._close(stale)
        if view is None:
            yield None
            return
        with view.lock:
            yield view

    def keep(self, key: Hashable, connection: Any, context: bytes, stamp: str) -> None:
        """Hold a freshly sorted list; the least recently used ones beyond capacity are closed."""
        view = KeptView(connection, context, stamp, self._clock())
        with self._lock:
            dropped = [self._views.pop(key)] if key in self._views else []
            self._views[key] = view
            while len(self._views) > self.capacity:
                dropped.append(self._views.popitem(last=False)[1])
        for old in dropped:
            self._close(old)

    def discard(self, key: Hashable, view: KeptView) -> None:
        """Forget a list the server no longer answers for (the caller holds its lock)."""
        with self._lock:
            if self._views.get(key) is view:
                del self._views[key]
        self._close_connection(view.connection)

    def close(self) -> None:
        """Close every kept list (frees the server's memory for them)."""
        with self._lock:
            views = list(self._views.values())
            self._views.clear()
        for view in views:
            self._close(view)

    def _close(self, view: KeptView) -> None:
        with view.lock:  # never under a thread that is reading a page from it
            self._close_connection(view.connection)
