"""The one module that talks ldap3: pooled, failover-aware connections and plain entries."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ldap3 import (
    ASYNC,
    BASE,
    LEVEL,
    MODIFY_ADD,
    MODIFY_DELETE,
    MODIFY_REPLACE,
    SUBTREE,
    SYNC,
    Connection,
    Server,
    ServerPool,
)
from ldap3.core import exceptions as ldap_errors
from ldap3.protocol.sasl.sasl import validate_simple_password
from ldap3.utils.config import set_config_parameter

from mailadmin.directory import kept_pages
from mailadmin.directory.controls import (
    SORT_REQUEST,
    VLV_ERROR,
    VLV_REQUEST,
    VLV_RESPONSE,
    VlvResponse,
    sort_value,
    vlv_response,
    vlv_value,
)
from mailadmin.directory.counts import OperationCounts, counted
from mailadmin.directory.failover import FailedOver, Failover, close_quietly, server_uri
from mailadmin.directory.keeper import KeptSocket
from mailadmin.directory.ordering import Unordered
from mailadmin.directory.pipeline import (
    TXN_END,
    TXN_SETTLE_SECONDS,
    TXN_SPEC,
    TXN_START,
    BulkWriter,
    Outcomes,
    Send,
    chunks,
    kept_while,
    txn_end_value,
)
from mailadmin.directory.results import error_for_result
from mailadmin.directory.sorted_views import KeptView, OwnWrites, SortedViews, Stamp
from mailadmin.directory.tls import SecuredConnection, VerifiedTls, open_secured
from mailadmin.directory.wire import send_add, send_modify, send_move
from mailadmin.errors import DirectoryError, DirectoryUnavailable, MailadminError, commit_in_doubt, unreachable
from mailadmin.i18n import t

T = TypeVar("T")
log = logging.getLogger(__name__)
SCOPES = {"base": BASE, "one": LEVEL, "sub": SUBTREE}
MODIFY_OPS = {"replace": MODIFY_REPLACE, "add": MODIFY_ADD, "delete": MODIFY_DELETE}
BATCH_SIZE = 500  # entries per transaction in bulk writes
POOL_SIZE = 8
MONITOR_OPERATIONS = "cn=Operations,cn=Monitor"
STAMP_TRIES, STAMP_RETRY_SECONDS = 5, 0.002  # slapd counts a write a moment after answering it
BUSY_TRIES = 5
UNSETTLED = "unsettled"  # a counter no kept list was made at: the stamp matches none
WRITE_COUNTERS = "(|(cn=Add)(cn=Delete)(cn=Modify)(cn=Modrdn)(cn=Extended))"
# ldap3 sleeps this long after a pool cycle in which no server answered, even the last
# cycle (default 10 s): with every server down the user would wait for nothing.
set_config_parameter("POOLING_LOOP_TIMEOUT", 0)
# What ldap3 raises for a server that is gone, dying or silent: always "directory unavailable".
OUTAGES = (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
           ldap_errors.LDAPResponseTimeoutError, ldap_errors.LDAPMaximumRetriesError)
Values = Sequence[str | bytes]
# Results that, when a write is repeated on another server, mean its first attempt went through.
ALREADY_ADDED, ALREADY_MODIFIED, ALREADY_GONE = frozenset({68}), frozenset({16, 20}), frozenset({32})
# {name: (op, values)}, or a list of them for several operations on one attribute in order
# (a delete of one value then an add: a compare-and-swap the server does atomically).
Changes = Mapping[str, tuple[str, Values] | list[tuple[str, Values]]]


@dataclass(frozen=True)
class DirectoryConfig:
    """How to reach the directory: servers in failover order and the service account."""

    uris: tuple[str, ...]
    base_dn: str
    bind_dn: str
    password: str = field(repr=False)
    connect_timeout: int = 3
    receive_timeout: int = 10
    page_size: int = 500
    kept_lists: int = 16  # sorted lists the server keeps between page requests (0: none)
    kept_list_seconds: int = 600  # and for at most this long
    ca_file: str = ""  # PEM CA certificates for TLS ("": the system's)
    start_tls: bool = False  # StartTLS on ldap:// URIs before anything else is sent


@dataclass(frozen=True)
class Entry:
    """One directory entry: its DN and raw values keyed by lower-case attribute name."""

    dn: str
    attributes: dict[str, list[bytes]]

    def raw(self, name: str) -> list[bytes]:
        """All values of an attribute as bytes ([] when absent)."""
        return self.attributes.get(name.lower(), [])

    def texts(self, name: str) -> list[str]:
        """All values of an attribute as text."""
        return [value.decode("utf-8") for value in self.raw(name)]

    def text(self, name: str, default: str = "") -> str:
        """The first value of an attribute as text."""
        values = self.raw(name)
        return values[0].decode("utf-8") if values else default


@dataclass(frozen=True)
class BulkFailure:
    """One write of a bulk run that the directory refused."""

    dn: str
    error: Exception


# Relax Rules control: lets the service account (manage access) clear ppolicy's pwdFailureTime.
RELAX_RULES_OID = "1.3.6.1.4.1.4203.666.5.12"


class DirectoryClient:
    """Thread-safe access to the directory: a small pool of bound connections over a server pool."""

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = config
        self._failover = Failover(config.uris, VerifiedTls(config.ca_file, config.start_tls),
                                  config.connect_timeout)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=POOL_SIZE)
        self._lock = threading.Lock()
        self._monitor_readable = True
        self.operations = OperationCounts()
        self._views = SortedViews(max(config.kept_lists, 0), _quietly_unbind, max_age=config.kept_list_seconds)
        self._own = OwnWrites()
        self._reader = kept_pages.Reader(self._view_window, self._lookup)
        self.sorts = 0  # sorted lists the server built afresh (the rest were kept ones)
        self._quiet_gap = 1 << 62  # initiated - completed writes when none is under way (see _write_counters)
        self._csn_readable = True  # until the suffix shows no contextCSN (no syncprov)
        self._sid = ""  # serverID of the server our writes reach, learnt from a written entry

    @property
    def base_dn(self) -> str:
        return self.config.base_dn

    # -- connections -------------------------------------------------------------------------

    def _open(self, strategy: str = SYNC, user: str | None = None, password: str | None = None,
              servers: ServerPool | Server | None = None) -> Connection:
        """A bound connection on the first server that answers (failover.py: a hung one is passed over)."""
        for attempt in range(self._failover.attempts):
            try:
                return self._open_once(strategy, user, password, servers)
            except FailedOver:
                if attempt == self._failover.attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _open_once(self, strategy: str, user: str | None, password: str | None,
                   servers: ServerPool | Server | None) -> Connection:
        connection = SecuredConnection(
            servers or self._failover.pool(), user=user or self.config.bind_dn,
            password=password if user else self.config.password, client_strategy=strategy,
            # ldap3's ASYNC receiver thread spins forever on a closed socket when a receive
            # timeout is set; its get_response() has its own timeout instead.
            raise_exceptions=False, receive_timeout=None if strategy == ASYNC else self.config.receive_timeout,
            auto_referrals=False, return_empty_attributes=False,
        )
        open_secured(connection, self.config.uris)
        try:
            if not connection.bind():
                _quietly_unbind(connection)
                raise error_for_result(connection.result, self.config.bind_dn)
        except (*OUTAGES, DirectoryUnavailable) as exc:
            self._failover.down(connection)
            _quietly_unbind(connection)
            raise FailedOver(", ".join(self.config.uris), _reason(exc)) from exc
        return connection

    def _acquire(self) -> Connection:
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                return self._open()
            if self._failover.usable(connection):
                return connection
            _quietly_unbind(connection)  # its server is passed over (hung or gone): failover.py

    def _release(self, connection: Connection, reusable: bool) -> None:
        if not reusable or connection.closed:
            _quietly_unbind(connection)
            return
        try:
            self._idle.put_nowait(connection)
        except queue.Full:
            _quietly_unbind(connection)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        connection = self._acquire()
        reusable = False
        try:
            yield connection
            reusable = True
        except OUTAGES:
            self._failover.down(connection)
            raise
        except DirectoryUnavailable:  # busy or unavailable (51, 52): the next server may answer
            self._failover.down(connection)
            raise
        except MailadminError:
            reusable = True  # the server answered with an error: the connection is fine
            raise
        finally:
            self._release(connection, reusable)

    @counted
    def _run(self, operation: Callable[[Connection], T], *, retry: bool) -> T:
        """Run on a pooled connection; on a dead, hung or busy server, again on the next one (`retry`)."""
        attempts = 1 + self._failover.attempts if retry else 1
        for attempt in range(attempts):
            try:
                with self._connection() as connection:
                    return operation(connection)
            except FailedOver:
                raise  # no server answered a new connection: nothing left to try
            except (*OUTAGES, DirectoryUnavailable) as exc:
                self._drain()
                if attempt == attempts - 1:
                    raise as_unavailable(exc, self.config.uris) from exc
        raise AssertionError("unreachable")

    def _drain(self) -> None:
        while True:
            try:
                _quietly_unbind(self._idle.get_nowait())
            except queue.Empty:
                return

    def close(self) -> None:
        """Unbind every idle connection and drop the kept sorted lists."""
        self._drain()
        self._views.close()

    # -- reads -------------------------------------------------------------------------------

    def search(self, base: str, search_filter: str, *, scope: str = "sub",
               attributes: Sequence[str] = ("*",), size_limit: int = 0) -> list[Entry]:
        """All entries that match, fetched page by page; a server-side truncation raises."""
        return list(self.iter_search(base, search_filter, scope=scope, attributes=attributes,
                                     size_limit=size_limit))

    def iter_search(self, base: str, search_filter: str, *, scope: str = "sub",
                    attributes: Sequence[str] = ("*",), size_limit: int = 0) -> Iterator[Entry]:
        """Matching entries, one page in memory at a time.

        Every page comes over the connection that asked for the first one (a paged-results
        cookie belongs to its connection), held for the whole iteration; other calls made
        while iterating use other connections.
        """
        connection, page, cookie = self._run_holding(
            lambda c: self._search_page(c, base, search_filter, scope, attributes, size_limit, None))
        finished = False
        try:
            returned = 0
            while True:
                yield from page
                returned += len(page)
                if not cookie or (size_limit and returned >= size_limit):
                    finished = not cookie
                    return
                page, cookie = self._search_page(connection, base, search_filter, scope, attributes,
                                                 size_limit, cookie)
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            # A search left half-read (caller stopped early, error) is not handed to anyone else.
            self._release(connection, finished)

    @counted
    def _run_holding(self, operation: Callable[[Connection], tuple[list[Entry], bytes | None]]
                     ) -> tuple[Connection, list[Entry], bytes | None]:
        """Run on a connection the caller keeps; on a dead server, retry once on the next URI."""
        for attempt in range(2):
            connection = self._acquire()
            try:
                page, cookie = operation(connection)
                return connection, page, cookie
            except MailadminError:
                self._release(connection, True)
                raise
            except OUTAGES as exc:
                self._failover.down(connection)
                self._release(connection, False)
                self._drain()
                if attempt == 1:
                    raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        raise AssertionError("unreachable")

    def _search_page(self, connection: Connection, base: str, search_filter: str, scope: str,
                     attributes: Sequence[str], size_limit: int,
                     cookie: bytes | None) -> tuple[list[Entry], bytes | None]:
        connection.search(base, search_filter, search_scope=SCOPES[scope],
                          attributes=list(attributes), size_limit=size_limit,
                          paged_size=self.config.page_size, paged_cookie=cookie)
        result = connection.result
        if result["result"] == 4 and size_limit:
            pass  # the caller asked for at most size_limit entries: not a truncation
        elif result["result"] == 32:
            return [], None
        elif result["result"] != 0:
            raise error_for_result(result, base)
        entries = [_entry(item) for item in connection.response or [] if item.get("type") == "searchResEntry"]
        controls = result.get("controls") or {}
        paged = controls.get("1.2.840.113556.1.4.319", {}).get("value", {})
        return entries, paged.get("cookie") or None

    def get(self, dn: str, attributes: Sequence[str] = ("*",)) -> Entry | None:
        """One entry by DN, or None."""
        entries = self.search(dn, "(objectClass=*)", scope="base", attributes=attributes)
        return entries[0] if entries else None

    def count(self, base: str, search_filter: str, scope: str = "sub") -> int:
        """How many entries match (DNs only, paged)."""
        return sum(1 for _ in self.iter_search(base, search_filter, scope=scope, attributes=["1.1"]))

    def change_stamp(self) -> str:
        """slapd's counts of completed client writes (cn=Monitor); '' where the server shows none.

        They move with every add, delete, modify, rename and extended operation a client makes,
        but not when ppolicy records a failed bind (an internal write), unlike contextCSN.
        """
        counters, _ = self._write_counters()
        return " ".join(f"cn={name}={count}" for name, count in sorted(counters.items()))

    def _write_counters(self) -> tuple[dict[str, int], bool]:
        """slapd's completed Add, Delete, Modify, Modrdn and Extended operations ({} where unreadable),
        and whether none is under way (slapd counts a write as completed only after answering it)."""
        if not self._monitor_readable:
            return {}, True

        def run(connection: Connection) -> tuple[dict[str, int], bool]:
            connection.search(MONITOR_OPERATIONS, WRITE_COUNTERS, search_scope=LEVEL,
                              attributes=["monitorOpCompleted", "monitorOpInitiated"])
            if connection.result["result"] in (32, 50):  # no monitor database, or not for us
                self._monitor_readable = False
                return {}, True
            if connection.result["result"] != 0:
                raise error_for_result(connection.result, MONITOR_OPERATIONS)
            return self._counted([item for item in connection.response or [] if item.get("type") == "searchResEntry"])
        return self._run(run, retry=True)

    def _context_csns(self) -> dict[str, str]:
        """The suffix's contextCSN values by serverID (syncprov keeps them); {} where there is none."""
        if not self._csn_readable:
            return {}
        entry = self.get(self.base_dn, ["contextCSN"])
        values = entry.texts("contextCSN") if entry else []
        self._csn_readable = entry is None or bool(values)
        return {_csn_sid(value): value for value in values}

    def _learn_sid(self, dn: str) -> None:
        """The serverID of the server our writes go to: the one in the entryCSN of one we wrote."""
        entry = self.get(dn, ["entryCSN"]) if self._csn_readable and dn else None
        if entry is not None and entry.text("entryCSN"):
            self._sid = _csn_sid(entry.text("entryCSN"))

    def _counted(self, entries: list[dict[str, Any]]) -> tuple[dict[str, int], bool]:
        """Completed writes by operation, and whether none is under way."""
        completed = {entry["dn"].split(",")[0][3:]: int(entry["raw_attributes"]["monitorOpCompleted"][0])
                     for entry in entries}
        gap = sum(int(entry["raw_attributes"]["monitorOpInitiated"][0]) for entry in entries) - sum(completed.values())
        # Quiet is the least gap seen, not 0: slapd folds an exiting thread's completed counts into
        # the initiated ones (connection.c, conn_counter_destroy), which leaves a lasting offset.
        self._quiet_gap = min(self._quiet_gap, gap)
        return completed, gap <= self._quiet_gap

    def _stamp(self) -> Stamp | None:
        """slapd's write counts with our own writes, read while no write is under way; None: no counts.

        A write answered but not yet counted (ours or anyone's) is waited for, a few milliseconds at
        most; a stamp read while writes go on is one no kept list matches (it is sorted again).
        """
        for _ in range(STAMP_TRIES):
            with self._own.lock:
                counters, settled = self._write_counters()
                stamp = Stamp(counters, self._own.snapshot(), self._context_csns(), self._sid)
            if not stamp.server:
                return None
            if settled and not self._views.pending(stamp):
                return stamp
            time.sleep(STAMP_RETRY_SECONDS)
        self._quiet_gap = 1 << 62  # a gap that lasts is the new quiet one (next read)
        return Stamp({**stamp.server, UNSETTLED: 1}, stamp.own)

    def window(self, base: str, search_filter: str, sort_keys: Sequence[str], offset: int, count: int,
               attributes: Sequence[str] = ("*",)) -> tuple[list[Entry], int]:
        """One page of a server-sorted result (sssvlv: sort + virtual list view) and the total count.

        `sort_keys` are attribute names, optionally `attr:orderingRule`; `offset` counts from 0.
        Only the page travels. The server keeps the sorted list between calls (sorted_views.py):
        the next page of an unchanged directory is read from it instead of sorting again.
        """
        stamp = self._stamp() if self._views.capacity else None
        if stamp is None:
            return self._fresh_window(base, search_filter, sort_keys, offset, count, attributes, keep=None)
        key = (base, search_filter, tuple(sort_keys))
        with self._views.borrow(key, stamp) as view:
            if view is not None:
                try:
                    return kept_pages.read_page(self._reader, view, offset, count, attributes)
                except (ldap_errors.LDAPException, MailadminError, kept_pages.LostList, Unordered):
                    pass  # the server lost the list (restart, idle timeout), or the patch does not add up
                self._views.discard(key, view)
        return self._fresh_window(base, search_filter, sort_keys, offset, count, attributes, keep=(key, stamp))

    def _view_window(self, view: KeptView, offset: int, count: int, attributes: Sequence[str]) -> list[Entry]:
        """Nodes [offset, offset+count) of a kept list, read back by DN (a deleted entry leaves a hole)."""
        query: kept_pages.Query = view.query
        for attempt in range(BUSY_TRIES):
            try:
                entries, response = self._vlv_page(view.connection, query.base, query.search_filter,
                                                   query.sort_keys, offset, count, attributes, view.context)
                break
            except DirectoryUnavailable:
                # sssvlv marks a list free again only after sending its answer: a request that
                # follows at once may find it still "in progress" (busy).
                if attempt == BUSY_TRIES - 1:
                    raise
                time.sleep(STAMP_RETRY_SECONDS)
        if response.context != view.context or response.total != view.total:
            raise kept_pages.LostList(query.base)
        return entries

    def _lookup(self, dn: str, search_filter: str, attributes: Sequence[str]) -> Entry | None:
        found = self.search(dn, search_filter, scope="base", attributes=attributes)
        return found[0] if found else None

    def _fresh_window(self, base: str, search_filter: str, sort_keys: Sequence[str], offset: int, count: int,
                      attributes: Sequence[str], keep: tuple[Any, Stamp] | None) -> tuple[list[Entry], int]:
        """A sort from scratch; a server lost meanwhile is passed over and the next one asked (failover.py)."""
        for attempt in range(self._failover.attempts):
            try:
                return self._fresh_window_once(base, search_filter, sort_keys, offset, count, attributes, keep)
            except FailedOver:
                if attempt == self._failover.attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _fresh_window_once(self, base: str, search_filter: str, sort_keys: Sequence[str], offset: int, count: int,
                           attributes: Sequence[str], keep: tuple[Any, Stamp] | None) -> tuple[list[Entry], int]:
        # A connection of its own: sssvlv holds a VLV result until its connection closes.
        connection = self._open()
        self.sorts += 1
        kept = False
        try:
            entries, response = self._vlv_page(connection, base, search_filter, sort_keys, offset, count,
                                               attributes, b"")
            # An empty result is freed by slapd at once: its context leads nowhere.
            if keep is not None and response.context and response.total:
                kept = self._keep(keep, connection, response, kept_pages.Query(base, search_filter, tuple(sort_keys)))
            return entries, response.total
        except OUTAGES as exc:
            self._failover.down(connection)
            raise FailedOver(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            if not kept:
                _quietly_unbind(connection)

    def _keep(self, keep: tuple[Any, Stamp], connection: Connection, response: VlvResponse,
              query: kept_pages.Query) -> bool:
        """Hold the list unless an own write came between its stamp and its sort (it would miss it)."""
        key, stamp = keep
        with self._own.lock:
            if self._own.snapshot() != stamp.own:
                return False
            self._views.keep(key, KeptView(connection, response.context, stamp, 0.0, response.total, query))
        return True

    def _vlv_page(self, connection: Connection, base: str, search_filter: str, sort_keys: Sequence[str],
                  offset: int, count: int, attributes: Sequence[str],
                  context: bytes) -> tuple[list[Entry], VlvResponse]:
        controls = [(SORT_REQUEST, True, sort_value(sort_keys)),
                    (VLV_REQUEST, True, vlv_value(offset + 1, max(count, 1) - 1, context))]
        connection.search(base, search_filter, search_scope=SUBTREE, attributes=list(attributes),
                          controls=controls)
        result = connection.result
        if result["result"] == 32:
            return [], VlvResponse(0, 0, b"")
        if result["result"] == VLV_ERROR and offset:
            # Past the end: an empty page, with the total read from a view of the first entry.
            _, response = self._vlv_page(connection, base, search_filter, sort_keys, 0, 1, ("1.1",), context)
            return [], response
        if result["result"] != 0:
            raise error_for_result(result, base)
        entries = [_entry(item) for item in connection.response or [] if item.get("type") == "searchResEntry"]
        response = vlv_response((result.get("controls") or {}).get(VLV_RESPONSE, {}).get("value", b""))
        return entries[:count], response

    # -- writes ------------------------------------------------------------------------------

    def add(self, dn: str, attributes: Mapping[str, Values]) -> None:
        """Create an entry; refusals become Conflict, InvalidInput, PermissionDenied…"""
        self._own_write("Add", dn, lambda c: c.add(dn, attributes=_clean(attributes)), ALREADY_ADDED,
                        done=_exists(dn))

    def modify(self, dn: str, changes: Changes, *, relax: bool = False) -> None:
        """Change attributes: {name: ("replace"|"add"|"delete", values)}; `relax`: operational ones too."""
        controls = [(RELAX_RULES_OID, True, None)] if relax else None
        self._own_write("Modify", dn, lambda c: c.modify(dn, _changes(changes), controls=controls), ALREADY_MODIFIED)

    def delete(self, dn: str) -> None:
        """Remove a leaf entry."""
        self._own_write("Delete", dn, lambda c: c.delete(dn), ALREADY_GONE)

    def move(self, dn: str, new_rdn: str, new_parent: str | None = None) -> None:
        """Rename an entry and/or move it (with its subtree) below another parent."""
        new_dn = f"{new_rdn},{new_parent or dn.split(',', 1)[1]}"
        self._own_write("Modrdn", dn, lambda c: c.modify_dn(dn, new_rdn, delete_old_dn=True, new_superior=new_parent),
                        ALREADY_GONE, new_dn=new_dn)

    def _own_write(self, kind: str, dn: str, operation: Callable[[Connection], Any], applied: frozenset[int],
                   done: Callable[[Connection], bool] | None = None, new_dn: str = "") -> None:
        """A write of one entry that the kept sorted lists take in (kept_pages.py) instead of sorting again."""
        with self._own.lock:
            if kind != "Add" and len(self._views):
                kept_pages.before_write(self._views, self._reader, dn, renames=kind == "Modrdn")
            try:
                self._write(operation, dn, applied, done)
            except DirectoryUnavailable:
                self._views.close()  # applied or not: nobody can tell
                raise
            finally:
                self._own.counted(kind)  # slapd counts refusals too
                kept_pages.after_write(self._views, dn, new_dn)
            if kind != "Delete" and not self._sid:
                self._learn_sid(new_dn or dn)

    def _write(self, operation: Callable[[Connection], Any], dn: str, applied: frozenset[int],
               done: Callable[[Connection], bool] | None = None) -> None:
        """One write; after a lost, hung or busy server it is sent once more to the next server.

        The first attempt may have been applied (and replicated) before the answer was lost: on the
        repeat, a result in `applied` (entry exists, value already there or gone, entry gone) means
        it was, and counts as success; `done` is asked first (an add: the entry is there; the unique
        overlay would otherwise answer the repeat with a constraint violation, not "already exists").
        """
        def run(connection: Connection, repeat: bool) -> None:
            # A kept connection's server may have hung since its last answer: a write sent to it
            # would wait in its queue and be applied when it wakes up, after its repeat on the next
            # server (measured: the stale add then won over later changes). Ask first: one round trip,
            # a read (an extended operation would move the write counters kept lists watch).
            connection.search("", "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
            if repeat and done is not None and done(connection):
                return
            operation(connection)
            code = connection.result["result"]
            if code != 0 and not (repeat and code in applied):
                raise error_for_result(connection.result, dn)
        try:
            self._run(lambda c: run(c, False), retry=False)
        except FailedOver:
            raise
        except DirectoryUnavailable:
            if self._failover.attempts < 2:
                raise
            self._run(lambda c: run(c, True), retry=False)

    def add_many(self, entries: Iterable[tuple[str, Mapping[str, Values]]],
                 on_result: Callable[[str, Exception | None], None] | None = None,
                 batch_size: int = BATCH_SIZE) -> list[BulkFailure]:
        """Create many entries; returns the refused ones, in order.

        Entries go in batches, each one LDAP transaction with its adds pipelined: one
        fsync per batch instead of one per entry; a batch is sent while the one before
        commits (pipeline.py). A batch the server refuses is replayed entry by entry (still
        pipelined), so one bad entry costs its batch a retry and holds back nobody else.
        """
        def send(connection: Connection, item: tuple[str, Mapping[str, Values]], controls: list[Any] | None) -> int:
            return send_add(connection, item[0], _clean(item[1]), controls)  # wire.py: why not ldap3's add
        return self._bulk(entries, send, on_result, batch_size, atomic=True)

    def modify_many(self, changes: Iterable[tuple[str, Changes]],
                    on_result: Callable[[str, Exception | None], None] | None = None,
                    batch_size: int = BATCH_SIZE) -> list[BulkFailure]:
        """Change many entries, `batch_size` modifies pipelined per LDAP transaction; returns the refused ones.

        A refused batch is replayed modify by modify (pipelined, no transaction), as add_many does.
        """
        def send(connection: Connection, item: tuple[str, Changes], controls: list[Any] | None) -> int:
            return send_modify(connection, item[0], _flat_changes(item[1]), controls)
        return self._bulk(changes, send, on_result, batch_size, atomic=True)

    def move_many(self, moves: Iterable[tuple[str, str, str | None]],
                  on_result: Callable[[str, Exception | None], None] | None = None,
                  batch_size: int = BATCH_SIZE) -> list[BulkFailure]:
        """Rename or move many entries (dn, new RDN, new parent), pipelined; returns the refused ones.

        Outside transactions: slapd 2.5.13 crashed on transactions holding renames (MailboxStore._move_or_delete).
        """
        def send(connection: Connection, item: tuple[str, str, str | None], controls: list[Any] | None) -> int:
            return send_move(connection, item[0], item[1], item[2], controls)
        return self._bulk(moves, send, on_result, batch_size, atomic=False)

    def _bulk(self, items: Iterable[Any], send: Send, on_result: Callable[[str, Exception | None], None] | None,
              batch_size: int, atomic: bool) -> list[BulkFailure]:
        failures: list[BulkFailure] = []

        def report(outcomes: Outcomes) -> None:
            for dn, error in outcomes:
                if error is not None:
                    failures.append(BulkFailure(dn, error))
                if on_result:
                    on_result(dn, error)
        writer = BulkWriter(self._bulk_connection, send, report, atomic)
        lost = False
        try:
            writer.write_all(chunks(items, batch_size))
        except OUTAGES as exc:
            lost = True
            for connection in [c for c in writer.connections if c.closed] or writer.connections[:1]:
                self._failover.down(connection)  # the one the server dropped, else the one that timed out
            holder = writer.commit_unanswered()
            if holder is not None:  # any outage: the resume's probe tells a frozen server from a dead one
                raise commit_in_doubt(server_uri(holder.server)) from exc
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            writer.close(_quietly_unbind, lost)
        return failures

    def _bulk_connection(self) -> Connection:
        connection = self._open(ASYNC)
        connection.response_wait = self.config.receive_timeout  # a hung server: failover.py, like single calls
        # ldap3 leaves the connect timeout on the socket: its receiver thread would shut a connection silent for
        # ldap.connect_timeout, under a slapd still busy (a long commit); the wait above is the one that counts.
        connection.socket.settimeout(None)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """An LDAP transaction (RFC 5805): every write inside commits together or not at all."""
        try:
            with self._connection() as connection, kept_while(connection) as kept:
                connection.extended(TXN_START)
                if connection.result["result"] != 0:
                    raise error_for_result(connection.result, self.base_dn)
                yield from _in_transaction(Transaction(connection, connection.result["responseValue"], kept))
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc

    # -- authentication ----------------------------------------------------------------------

    def check_password(self, dn: str, password: str) -> bool:
        """True if `password` binds as `dn` (a fresh connection; the pool is not touched)."""
        if not bindable(password):
            return False
        for attempt in range(self._failover.attempts):
            try:
                return self._check_password_once(dn, password)
            except FailedOver:
                if attempt == self._failover.attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _check_password_once(self, dn: str, password: str) -> bool:
        connection = SecuredConnection(self._failover.pool(), user=dn, password=password, raise_exceptions=False,
                                       receive_timeout=self.config.receive_timeout, auto_referrals=False)
        try:
            open_secured(connection, self.config.uris)
            ok = bool(connection.bind())
            if not ok and connection.result["result"] not in (49, 50, 53):
                raise error_for_result(connection.result, dn)
            return ok
        except OUTAGES as exc:
            self._failover.down(connection)
            raise FailedOver(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)

    def change_own_password(self, dn: str, old_password: str, new_hash: str) -> None:
        """Set a new password bound as the person (ppolicy then clears the must-change flag).

        Refusals (wrong old password, locked account, quality) raise the directory's reason.
        """
        if not bindable(old_password):
            raise error_for_result({"result": 49, "description": "invalidCredentials", "message": ""}, dn)
        connection = SecuredConnection(self._failover.pool(), user=dn, password=old_password, raise_exceptions=False,
                                       receive_timeout=self.config.receive_timeout, auto_referrals=False)
        try:
            open_secured(connection, self.config.uris)
            if not connection.bind():
                raise error_for_result(connection.result, dn)
            connection.modify(dn, _changes({"userPassword": ("replace", [new_hash])}))
            if connection.result["result"] != 0:
                raise error_for_result(connection.result, dn)
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)

    def probe(self) -> None:
        """A bind and a base read on a new connection, not the pool; DirectoryUnavailable when no answer in time."""
        connection = self._open()
        try:
            connection.search(self.base_dn, "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
        except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError) as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)
        if connection.result["result"] != 0:
            raise error_for_result(connection.result, self.base_dn)

    def silent(self, uri: str) -> bool:
        """Does the server at `uri` accept connections yet answer nothing (a frozen one)? failover.silent."""
        return self._failover.silent(uri)

    def whoami_server(self) -> str:
        """The URI of the server the pool currently talks to (for status and failover tests)."""
        def current(connection: Connection) -> str:
            connection.extend.standard.who_am_i()
            if connection.result["result"] != 0:
                raise DirectoryError(t("Thư mục không trả lời whoami", "directory refused whoami"))
            return str(connection.server.host) + ":" + str(connection.server.port)
        return self._run(current, retry=True)


class Transaction:
    """Writes queued in one LDAP transaction; the server applies them at commit."""

    def __init__(self, connection: Connection, identifier: bytes, kept: KeptSocket | None = None) -> None:
        self._connection = connection
        self._kept = kept  # told while the commit runs (keeper.py)
        self._control = [(TXN_SPEC, True, identifier)]
        self._identifier = identifier
        self._first_dn = ""

    def add(self, dn: str, attributes: Mapping[str, Values]) -> None:
        self._queue(dn, lambda c: c.add(dn, attributes=_clean(attributes), controls=self._control))

    def modify(self, dn: str, changes: Changes) -> None:
        self._queue(dn, lambda c: c.modify(dn, _changes(changes), controls=self._control))

    def delete(self, dn: str) -> None:
        self._queue(dn, lambda c: c.delete(dn, controls=self._control))

    def move(self, dn: str, new_rdn: str, new_parent: str | None = None) -> None:
        self._queue(dn, lambda c: c.modify_dn(dn, new_rdn, delete_old_dn=True,
                                              new_superior=new_parent, controls=self._control))

    def _queue(self, dn: str, operation: Callable[[Connection], Any]) -> None:
        self._first_dn = self._first_dn or dn
        operation(self._connection)
        if self._connection.result["result"] != 0:
            raise error_for_result(self._connection.result, dn)

    def end(self, *, commit: bool) -> None:
        """Commit (or abort) the transaction; a refused commit raises with the server's reason."""
        time.sleep(TXN_SETTLE_SECONDS)  # see TXN_SETTLE_SECONDS: slapd may still hold the last write
        if self._kept:
            self._kept.committing()
        self._connection.extended(TXN_END, txn_end_value(self._identifier, commit))
        if self._kept:
            self._kept.done()
        result = self._connection.result
        if commit and result["result"] != 0:
            raise error_for_result(result, self._first_dn or "transaction")


def _in_transaction(txn: Transaction) -> Iterator[Transaction]:
    """Yield the transaction; commit after the caller's block, abort if it raised."""
    try:
        yield txn
    except BaseException:
        _quietly(lambda: txn.end(commit=False))  # the caller's error matters, not the abort's
        raise
    txn.end(commit=True)


def _flat_changes(changes: Changes) -> dict[str, tuple[str, Values]]:
    """Changes with one operation per attribute (what the lean encoder takes)."""
    flat: dict[str, tuple[str, Values]] = {}
    for name, change in changes.items():
        if isinstance(change, list):
            raise ValueError("modify_many takes one operation per attribute")
        flat[name] = change
    return flat


def _entry(item: Mapping[str, Any]) -> Entry:
    attributes: dict[str, list[bytes]] = {}
    for name, values in (item.get("raw_attributes") or {}).items():
        key = name.lower()
        attributes.setdefault(key, []).extend(values)
        if key.endswith(";binary"):
            attributes.setdefault(key.removesuffix(";binary"), []).extend(values)
    return Entry(item["dn"], attributes)


def _clean(attributes: Mapping[str, Values]) -> dict[str, list[str | bytes]]:
    return {name: list(values) for name, values in attributes.items() if values}


def _changes(changes: Changes) -> dict[str, list[tuple[Any, list[str | bytes]]]]:
    return {name: [(MODIFY_OPS[op], list(values)) for op, values in (change if isinstance(change, list) else [change])]
            for name, change in changes.items()}


def bindable(password: str) -> bool:
    """Whether a password can be a simple bind's: not empty, and accepted by SASLprep (RFC 4013).

    An empty one would be an unauthenticated bind; one SASLprep refuses (a control character) makes
    ldap3 raise before sending. Neither can match a stored password: both are simply wrong passwords.
    """
    if not password:
        return False
    try:
        validate_simple_password(password)
    except ldap_errors.LDAPSASLPrepError:
        return False
    return True


def _csn_sid(csn: str) -> str:
    """The serverID part of a CSN (YYYYmmddHHMMSS.uuuuuuZ#count#sid#mod)."""
    parts = csn.split("#")
    return parts[2] if len(parts) > 2 else ""


def _exists(dn: str) -> Callable[[Connection], bool]:
    """A check that an entry is there (read on the connection given)."""
    def check(connection: Connection) -> bool:
        connection.search(dn, "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
        return bool(connection.result["result"] == 0)
    return check


def as_unavailable(exc: Exception, uris: Sequence[str]) -> DirectoryUnavailable:
    """The error to show for an outage: DirectoryUnavailable as it came, or "unreachable" with the reason."""
    if isinstance(exc, DirectoryUnavailable):
        return exc
    return unreachable(", ".join(uris), _reason(exc))


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _quietly_unbind(connection: Connection) -> None:
    _quietly(lambda: close_quietly(connection))  # failover.py: the socket is closed even when the unbind fails


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:
        pass
