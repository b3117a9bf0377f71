"""Sorted result lists the server keeps between page requests (sssvlv VLV contexts).

slapd's sssvlv overlay sorts a whole result in memory and keeps it on the connection that asked,
answering later VLV requests that carry the same context from that sorted list: a page of a
100,000-entry list then costs a walk and 50 entry reads instead of a fresh sort. A kept list is a
snapshot taken at a Stamp: slapd's counts of completed client writes (cn=Monitor) and this process's
own writes counted alongside. The service's own writes (add, modify, delete, rename of one entry)
do not drop it: each is recorded in the list's Patch (kept_pages.py places it), and pages are cut
from the server's list and the patch together. A write the process did not make (another process,
a tool, a replica) shows as a server count its own counts do not explain, and the list is dropped
and sorted again; so is any list older than `max_age` seconds.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

PATCH_LIMIT = 200  # own writes one kept list takes in before it is sorted again
WRITE_KINDS = ("Add", "Delete", "Modify", "Modrdn")


@dataclass(frozen=True)
class Stamp:
    """slapd's completed-write counts and this process's own writes, read together; with syncprov,
    the suffix's contextCSN by serverID and the serverID of the server we write to."""

    server: Mapping[str, int]
    own: Mapping[str, int]
    csns: Mapping[str, str] = field(default_factory=dict)
    sid: str = ""

    def explains(self, later: Stamp) -> bool | None:
        """True: every write since is our own; False: someone else wrote; None: ours not yet counted.

        Replicated writes move no counter (slapd applies them internally), only the contextCSN of
        the server they were first made on: any change of another server's value is someone else's.
        """
        if set(later.server) != set(self.server) or _replicated(self.csns, later.csns, later.sid):
            return False
        pending = False
        for name, count in later.server.items():
            theirs = count - self.server[name]
            ours = later.own.get(name, 0) - self.own.get(name, 0)
            if theirs > ours:
                return False
            pending = pending or theirs < ours
        return None if pending else True


def _replicated(before: Mapping[str, str], after: Mapping[str, str], own_sid: str) -> bool:
    """Whether a contextCSN value of another server than ours changed."""
    return {k: v for k, v in before.items() if k != own_sid} != {k: v for k, v in after.items() if k != own_sid}


class OwnWrites:
    """This process's writes of single entries, counted as slapd counts them; one at a time."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.seq = 0
        self._counts = dict.fromkeys(WRITE_KINDS, 0)

    def counted(self, kind: str) -> None:
        """One write the server has answered (success or refusal: both count there)."""
        self._counts[kind] += 1
        self.seq += 1

    def snapshot(self) -> dict[str, int]:
        """The counts so far."""
        return dict(self._counts)


@dataclass(order=True)
class Gone:
    """A node of the server's list that an own write touched: where it sits and how it sorted."""

    position: int
    order: tuple[Any, ...] = field(compare=False)


@dataclass
class Patch:
    """The own writes a kept list has taken in since the server sorted it."""

    touched: set[str] = field(default_factory=set)  # normalised DNs: never read from the server's list
    dirty: dict[str, str] = field(default_factory=dict)  # touched DNs whose current state is not yet read
    gone: list[Gone] = field(default_factory=list)  # server-list nodes among the touched, by position
    present: dict[str, tuple[tuple[Any, ...], str]] = field(default_factory=dict)  # touched, matching now
    entries: dict[str, tuple[tuple[str, ...], Any]] = field(default_factory=dict)  # their last read: attributes, entry

    def __len__(self) -> int:
        return len(self.touched)

    def touch(self, dn: str) -> None:
        """An own write changed `dn` (or created it): read its state again before the next page."""
        key = normal_dn(dn)
        self.touched.add(key)
        self.dirty[key] = dn

    def add_gone(self, position: int, order: tuple[Any, ...]) -> None:
        """A node of the server's list is now read from the directory, not the list."""
        insort(self.gone, Gone(position, order))

    def positions(self) -> list[int]:
        """Positions of the touched nodes in the server's list, ascending."""
        return [item.position for item in self.gone]

    def sorted_present(self) -> list[tuple[tuple[Any, ...], str]]:
        """The touched entries that match now, in sort order."""
        return sorted(self.present.values(), key=lambda item: item[0])


@dataclass
class KeptView:
    """One sorted list held by the server: its connection, context and the stamp it was made at."""

    connection: Any
    context: bytes
    stamp: Stamp
    created: float
    total: int = 0
    query: Any = None  # what kept_pages needs to read and patch it (base, filter, keys)
    patch: Patch = field(default_factory=Patch)
    lock: threading.Lock = field(default_factory=threading.Lock)


def normal_dn(dn: str) -> str:
    """A DN compared as the directory compares ours (lower case, no spaces around separators)."""
    return ",".join(part.strip() for part in dn.lower().split(","))


def in_scope(dn: str, base: str) -> bool:
    """Whether `dn` is `base` or below it (normalised DNs)."""
    return dn == base or dn.endswith("," + base)


def position_of_rank(gone: Sequence[int], rank: int) -> int:
    """Where the untouched node of rank `rank` sits in the server's list, skipping touched positions."""
    position = rank
    for taken in gone:
        if taken > position:
            break
        position += 1
    return position


def page_plan(total: int, gone: int, present: int, offset: int, count: int) -> tuple[int, int]:
    """The ranks of untouched nodes [low, high) that can land on the page [offset, offset+count)."""
    untouched = total - gone
    return max(0, offset - present), min(untouched, offset + count)


def merge_page(untouched: Sequence[tuple[tuple[Any, ...], Any]], low: int, high: int, untouched_total: int,
               present: Sequence[tuple[tuple[Any, ...], Any]], offset: int, count: int) -> list[Any]:
    """The page [offset, offset+count) of the untouched nodes of ranks [low, high) merged with `present`.

    Every present item whose place cannot fall on the page from what was read is left out, which
    is exact: one sorting below the first untouched item read has a place below `offset`, one above
    the last read a place at or past `offset + count` (page_plan reads that far).
    """
    orders = [order for order, _ in untouched]
    present_orders = [order for order, _ in present]
    placed = [(low + index + bisect_left(present_orders, order), item)
              for index, (order, item) in enumerate(untouched)]
    for index, (order, item) in enumerate(present):
        below = _untouched_below(orders, order, low, high, untouched_total)
        if below is not None:
            placed.append((index + below, item))
    return [item for place, item in sorted(placed, key=lambda pair: pair[0]) if offset <= place < offset + count]


def _untouched_below(orders: Sequence[tuple[Any, ...]], order: tuple[Any, ...], low: int, high: int,
                     untouched_total: int) -> int | None:
    """How many untouched nodes sort below `order`, when what was read tells it exactly."""
    if not orders:
        return 0 if untouched_total == 0 else None
    below = bisect_left(orders, order)
    if below == 0 and low > 0:
        return None
    if below == len(orders) and high < untouched_total:
        return None
    return low + below


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
    def borrow(self, key: Hashable, stamp: Stamp) -> Iterator[KeptView | None]:
        """The kept list for `key` if nobody else wrote since it was sorted, locked for the caller; else None."""
        with self._lock:
            view = self._views.get(key)
            if view is not None and not self._current(view, stamp):
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

    def pending(self, stamp: Stamp) -> bool:
        """Whether slapd has not yet counted an own write some kept list took in."""
        return any(view.stamp.explains(stamp) is None for _, view in self.items())

    def _current(self, view: KeptView, stamp: Stamp) -> bool:
        fresh = self._clock() - view.created <= self.max_age and len(view.patch) <= PATCH_LIMIT
        return fresh and view.stamp.explains(stamp) is True

    def keep(self, key: Hashable, view: KeptView) -> None:
        """Hold a freshly sorted list; the least recently used ones beyond capacity are closed."""
        view.created = self._clock()
        with self._lock:
            dropped = [self._views.pop(key)] if key in self._views else []
            self._views[key] = view
            while len(self._views) > self.capacity:
                dropped.append(self._views.popitem(last=False)[1])
        for old in dropped:
            self._close(old)

    def items(self) -> list[tuple[Hashable, KeptView]]:
        """The kept lists now (a copy: for taking in an own write)."""
        with self._lock:
            return list(self._views.items())

    def discard(self, key: Hashable, view: KeptView) -> None:
        """Forget a list the server no longer answers for (the caller holds its lock)."""
        with self._lock:
            if self._views.get(key) is view:
                del self._views[key]
        self._close_connection(view.connection)

    def drop(self, key: Hashable, view: KeptView) -> None:
        """Forget a list that cannot take in a write (the caller does not hold its lock)."""
        with self._lock:
            if self._views.get(key) is view:
                del self._views[key]
            else:
                return
        self._close(view)

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
