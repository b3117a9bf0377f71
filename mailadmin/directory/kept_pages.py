"""Pages of a kept sorted list that has taken in the service's own writes (sorted_views.Patch).

slapd's kept list (sssvlv) is a snapshot: nodes of DN and sort values, read back by DN for each
page. After an own write of an entry the list had, its node is *touched*: the node's position is
found once, before the write (a binary search over the list, Python ordering as slapd's:
ordering.py), and from then on the entry is read from the directory, not from the list. A page is
then the untouched nodes around it, read from the server's list in one VLV request, merged with
the touched entries that match now; nothing is sorted again. Anything that does not add up (a lost
list, a value whose order cannot be reproduced, a count that differs) raises LostList, and the
caller sorts on the server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from ldap3.core.exceptions import LDAPException

from mailadmin.directory.ordering import Unordered, key_attributes, order_key
from mailadmin.directory.sorted_views import (
    KeptView,
    SortedViews,
    in_scope,
    merge_page,
    normal_dn,
    page_plan,
    position_of_rank,
)
from mailadmin.errors import MailadminError


class LostList(Exception):
    """The kept list cannot answer this page exactly: sort again on the server."""


class EntryLike(Protocol):
    """What a directory entry offers here."""

    @property
    def dn(self) -> str: ...

    def raw(self, name: str) -> list[bytes]: ...


@dataclass(frozen=True)
class Query:
    """What a kept list is a sorted result of."""

    base: str
    search_filter: str
    sort_keys: tuple[str, ...]

    @cached_property
    def scope(self) -> str:
        return normal_dn(self.base)

    @cached_property
    def key_attributes(self) -> tuple[str, ...]:
        return key_attributes(self.sort_keys)

    def order(self, entry: EntryLike) -> tuple[Any, ...]:
        """Where the server sorts `entry` in this list."""
        return order_key(self.sort_keys, entry.raw)


@dataclass(frozen=True)
class Reader:
    """The two reads a patched list needs: a VLV window of its server list, one entry by DN."""

    window: Callable[[KeptView, int, int, Sequence[str]], list[Any]]
    lookup: Callable[[str, str, Sequence[str]], Any]


def before_write(views: SortedViews, reader: Reader, dn: str, *, renames: bool) -> None:
    """Before an own modify, delete or rename of `dn`: each kept list notes where it has the entry."""
    for key, view in views.items():
        try:
            with view.lock:
                taken = _take_in(reader, view, dn, renames)
        except (LostList, Unordered, MailadminError, LDAPException):
            taken = False  # a kept list never holds a write back: it is sorted again instead
        if not taken:
            views.drop(key, view)


def after_write(views: SortedViews, *dns: str) -> None:
    """After an own write: the entry (old and new DN) is read afresh before each list's next page."""
    for _, view in views.items():
        for dn in dns:
            if dn and in_scope(normal_dn(dn), view.query.scope):
                with view.lock:
                    view.patch.touch(dn)


def _take_in(reader: Reader, view: KeptView, dn: str, renames: bool) -> bool:
    """False when the list cannot follow this write (a subtree rename above or in it)."""
    query: Query = view.query
    key = normal_dn(dn)
    if key in view.patch.touched:
        return True
    if not in_scope(key, query.scope):
        return not (renames and in_scope(query.scope, key))
    entry = reader.lookup(dn, query.search_filter, query.key_attributes)
    if entry is None:
        return not renames  # a unit or other container renamed inside the list's base carries entries
    order = query.order(entry)
    view.patch.add_gone(_locate(reader, view, dn, order), order)
    view.patch.touched.add(key)
    return True


def _locate(reader: Reader, view: KeptView, dn: str, order: tuple[Any, ...]) -> int:
    """The position of the node for `dn` (sorting at `order`) in the server's list."""
    gone = view.patch.positions()
    low, high = 0, view.total - len(gone)
    while low < high:
        middle = (low + high) // 2
        if _node(reader, view, position_of_rank(gone, middle)) < order:
            low = middle + 1
        else:
            high = middle
    position = low + sum(1 for item in view.patch.gone if item.order < order)
    found = reader.window(view, position, 1, ("1.1",))
    if len(found) != 1 or normal_dn(found[0].dn) != normal_dn(dn):
        raise LostList(dn)
    return position


def _node(reader: Reader, view: KeptView, position: int) -> tuple[Any, ...]:
    found = reader.window(view, position, 1, view.query.key_attributes)
    if len(found) != 1:
        raise LostList(position)
    return view.query.order(found[0])


def read_page(reader: Reader, view: KeptView, offset: int, count: int,
              attributes: Sequence[str]) -> tuple[list[Any], int]:
    """One page of the list as it is now, and the list's size."""
    patch = view.patch
    if not patch.touched:
        return reader.window(view, offset, count, attributes), view.total
    _refresh(reader, view, attributes)
    gone, present = patch.positions(), patch.sorted_present()
    low, high = page_plan(view.total, len(gone), len(present), offset, count)
    untouched = _untouched(reader, view, gone, low, high, attributes)
    picked = merge_page(untouched, low, high, view.total - len(gone), present, offset, count)
    return [_entry(reader, view, item, attributes) for item in picked], view.total - len(gone) + len(present)


def _refresh(reader: Reader, view: KeptView, attributes: Sequence[str]) -> None:
    """Read the entries written since the last page: whether they match, where they sort, what a page shows."""
    query: Query = view.query
    patch = view.patch
    wanted = _with_keys(attributes, query)
    for key, dn in list(patch.dirty.items()):
        entry = reader.lookup(dn, query.search_filter, wanted)
        if entry is None:
            patch.present.pop(key, None)
        else:
            patch.present[key] = (query.order(entry), dn)
            patch.entries[key] = (wanted, entry)
        del patch.dirty[key]


def _with_keys(attributes: Sequence[str], query: Query) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*attributes, *query.key_attributes)))


def _untouched(reader: Reader, view: KeptView, gone: list[int], low: int, high: int,
               attributes: Sequence[str]) -> list[tuple[tuple[Any, ...], Any]]:
    """The untouched nodes of ranks [low, high), read in one window of the server's list."""
    if low >= high:
        return []
    start, end = position_of_rank(gone, low), position_of_rank(gone, high - 1) + 1
    entries = reader.window(view, start, end - start, _with_keys(attributes, view.query))
    untouched = [(view.query.order(entry), entry) for entry in entries
                 if normal_dn(entry.dn) not in view.patch.touched]
    if len(untouched) != high - low:
        raise LostList(start)
    return untouched


def _entry(reader: Reader, view: KeptView, item: Any, attributes: Sequence[str]) -> Any:
    if not isinstance(item, str):
        return item
    read, entry = view.patch.entries.get(normal_dn(item), ((), None))
    if entry is not None and set(attributes) <= set(read):
        return entry  # read with this page's attributes since its last own write
    entry = reader.lookup(item, view.query.search_filter, attributes)
    if entry is None:
        raise LostList(item)
    return entry
