"""The one module that talks ldap3: pooled, failover-aware connections and plain entries."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
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

from mailadmin.directory.controls import (
    SORT_REQUEST,
    VLV_ERROR,
    VLV_REQUEST,
    VLV_RESPONSE,
    VlvResponse,
    ber_octets,
    ber_sequence,
    sort_value,
    vlv_response,
    vlv_value,
)
from mailadmin.directory.counts import OperationCounts, counted
from mailadmin.directory.results import error_for_result
from mailadmin.directory.sorted_views import SortedViews
from mailadmin.directory.tls import SecuredConnection, VerifiedTls, open_secured, server_pool
from mailadmin.directory.wire import send_add, send_modify, send_move
from mailadmin.errors import DirectoryError, MailadminError, unreachable
from mailadmin.i18n import t

T = TypeVar("T")
log = logging.getLogger(__name__)
SCOPES = {"base": BASE, "one": LEVEL, "sub": SUBTREE}
MODIFY_OPS = {"replace": MODIFY_REPLACE, "add": MODIFY_ADD, "delete": MODIFY_DELETE}
PIPELINE_WINDOW = 256  # slapd drops a connection past ~1,000 outstanding operations
BATCH_SIZE = 500  # entries per transaction in bulk writes
POOL_SIZE = 8
TXN_START, TXN_SPEC, TXN_END = "1.3.6.1.1.21.1", "1.3.6.1.1.21.2", "1.3.6.1.1.21.3"
MONITOR_OPERATIONS = "cn=Operations,cn=Monitor"
WRITE_COUNTERS = "(|(cn=Add)(cn=Delete)(cn=Modify)(cn=Modrdn)(cn=Extended))"
# ldap3 sleeps this long after a pool cycle in which no server answered, even the last
# cycle (default 10 s): with every server down the user would wait for nothing.
set_config_parameter("POOLING_LOOP_TIMEOUT", 0)
# What ldap3 raises for a server that is gone, dying or silent: always "directory unavailable".
OUTAGES = (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
           ldap_errors.LDAPResponseTimeoutError, ldap_errors.LDAPMaximumRetriesError)
RESPONSE_POLL_SECONDS = 0.5  # how often a wait for a pipelined answer looks whether the server is gone
RESPONSE_WAIT_SECONDS = 20.0  # a server that answers nothing for this long is taken for gone
# slapd (2.5.13 and still 2.6/master) answers a write sent under a transaction before its worker thread
# is done with the operation (do_add unlinks op->o_extra, ITS#9892 fixed in 2.5.14; fe_op_add and
# fe_op_modify set op->o_bd; connection_operation reads it). A TxnEnd (commit or abort), or the connection
# closing, that reaches slapd inside that window executes or frees the operation under the worker thread:
# slapd segfaults (do_add+0x6a9, back_mdb, unique) or aborts. The window is microseconds unless the thread is
# preempted; waiting this long after the last answer before ending a transaction closes it in practice
# (tests/test_txn_settle.py crashed slapd within 2 s without it; 0 crashes in 3,000 ends with 5 ms).
TXN_SETTLE_SECONDS = 0.05
Values = Sequence[str | bytes]
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
        self._servers = server_pool(config.uris, VerifiedTls(config.ca_file, config.start_tls),
                                    config.connect_timeout)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=POOL_SIZE)
        self._lock = threading.Lock()
        self._monitor_readable = True
        self.operations = OperationCounts()
        self._views = SortedViews(max(config.kept_lists, 0), _quietly_unbind, max_age=config.kept_list_seconds)

    @property
    def base_dn(self) -> str:
        return self.config.base_dn

    # -- connections -------------------------------------------------------------------------

    def _open(self, strategy: str = SYNC, user: str | None = None, password: str | None = None,
              servers: ServerPool | Server | None = None) -> Connection:
        connection = SecuredConnection(
            servers or self._servers, user=user or self.config.bind_dn,
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
        except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPServerPoolExhaustedError,
                ldap_errors.LDAPSocketOpenError) as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        return connection

    def _acquire(self) -> Connection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._open()

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
        except MailadminError:
            reusable = True  # the server answered with an error: the connection is fine
            raise
        finally:
            self._release(connection, reusable)

    @counted
    def _run(self, operation: Callable[[Connection], T], *, retry: bool) -> T:
        """Run on a pooled connection; on a dead server, reconnect (next URI) and retry once."""
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                with self._connection() as connection:
                    return operation(connection)
            except OUTAGES as exc:
                self._drain()
                if attempt == attempts - 1:
                    raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
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
        if not self._monitor_readable:
            return ""

        def run(connection: Connection) -> str:
            connection.search(MONITOR_OPERATIONS, WRITE_COUNTERS, search_scope=LEVEL,
                              attributes=["monitorOpCompleted"])
            if connection.result["result"] in (32, 50):  # no monitor database, or not for us
                self._monitor_readable = False
                return ""
            if connection.result["result"] != 0:
                raise error_for_result(connection.result, MONITOR_OPERATIONS)
            counters = {item["dn"].split(",")[0]: item["raw_attributes"]["monitorOpCompleted"][0].decode()
                        for item in connection.response or [] if item.get("type") == "searchResEntry"}
            return " ".join(f"{name}={count}" for name, count in sorted(counters.items()))
        return self._run(run, retry=True)

    def window(self, base: str, search_filter: str, sort_keys: Sequence[str], offset: int, count: int,
               attributes: Sequence[str] = ("*",)) -> tuple[list[Entry], int]:
        """One page of a server-sorted result (sssvlv: sort + virtual list view) and the total count.

        `sort_keys` are attribute names, optionally `attr:orderingRule`; `offset` counts from 0.
        Only the page travels. The server keeps the sorted list between calls (sorted_views.py):
        the next page of an unchanged directory is read from it instead of sorting again.
        """
        stamp = self.change_stamp() if self._views.capacity else ""
        if not stamp:
            return self._fresh_window(base, search_filter, sort_keys, offset, count, attributes, keep=None)
        key = (base, search_filter, tuple(sort_keys))
        with self._views.borrow(key, stamp) as view:
            if view is not None:
                try:
                    entries, response = self._vlv_page(view.connection, base, search_filter, sort_keys,
                                                       offset, count, attributes, view.context)
                    if response.context == view.context:
                        return entries, response.total
                except (ldap_errors.LDAPException, MailadminError):
                    pass  # the server lost the list (restart, idle timeout): sort again below
                self._views.discard(key, view)
        return self._fresh_window(base, search_filter, sort_keys, offset, count, attributes, keep=(key, stamp))

    def _fresh_window(self, base: str, search_filter: str, sort_keys: Sequence[str], offset: int, count: int,
                      attributes: Sequence[str], keep: tuple[Any, str] | None) -> tuple[list[Entry], int]:
        # A connection of its own: sssvlv holds a VLV result until its connection closes.
        connection = self._open()
        kept = False
        try:
            entries, response = self._vlv_page(connection, base, search_filter, sort_keys, offset, count,
                                               attributes, b"")
            # An empty result is freed by slapd at once: its context leads nowhere.
            if keep is not None and response.context and response.total:
                self._views.keep(keep[0], connection, response.context, keep[1])
                kept = True
            return entries, response.total
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            if not kept:
                _quietly_unbind(connection)

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
        self._write(lambda c: c.add(dn, attributes=_clean(attributes)), dn)

    def modify(self, dn: str, changes: Changes, *, relax: bool = False) -> None:
        """Change attributes: {name: ("replace"|"add"|"delete", values)}; `relax`: operational ones too."""
        controls = [(RELAX_RULES_OID, True, None)] if relax else None
        self._write(lambda c: c.modify(dn, _changes(changes), controls=controls), dn)

    def delete(self, dn: str) -> None:
        """Remove a leaf entry."""
        self._write(lambda c: c.delete(dn), dn)

    def move(self, dn: str, new_rdn: str, new_parent: str | None = None) -> None:
        """Rename an entry and/or move it (with its subtree) below another parent."""
        self._write(lambda c: c.modify_dn(dn, new_rdn, delete_old_dn=True, new_superior=new_parent), dn)

    def _write(self, operation: Callable[[Connection], Any], dn: str) -> None:
        def run(connection: Connection) -> None:
            operation(connection)
            if connection.result["result"] != 0:
                raise error_for_result(connection.result, dn)
        # A write is not retried after a lost connection: it may have been applied.
        self._run(run, retry=False)

    def add_many(self, entries: Iterable[tuple[str, Mapping[str, Values]]],
                 on_result: Callable[[str, Exception | None], None] | None = None,
                 batch_size: int = BATCH_SIZE) -> list[BulkFailure]:
        """Create many entries; returns the refused ones, in order.

        Entries go in batches, each one LDAP transaction with its adds pipelined: one
        fsync per batch instead of one per entry. A batch the server refuses is replayed
        entry by entry (still pipelined), so one bad entry costs its batch a retry and
        holds back nobody else.
        """
        connection = self._open(ASYNC)
        failures: list[BulkFailure] = []
        try:
            for batch in _chunks(entries, batch_size):
                outcomes = _add_batch_atomically(connection, batch)
                if outcomes is None:
                    log.info("transaction of %d adds refused; replaying them one by one", len(batch))
                    outcomes = _add_pipelined(connection, batch)
                for dn, error in outcomes:
                    if error is not None:
                        failures.append(BulkFailure(dn, error))
                    if on_result:
                        on_result(dn, error)
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)
        return failures

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

    def _bulk(self, items: Iterable[Any], send: Callable[[Connection, Any, list[Any] | None], int],
              on_result: Callable[[str, Exception | None], None] | None, batch_size: int,
              atomic: bool) -> list[BulkFailure]:
        connection = self._open(ASYNC)
        failures: list[BulkFailure] = []
        try:
            for batch in _chunks(items, batch_size):
                outcomes = _batch_atomically(connection, batch, send) if atomic else None
                if outcomes is None:
                    outcomes = _outcomes(batch, _pipeline_sends(connection, batch, send, None))
                for dn, error in outcomes:
                    if error is not None:
                        failures.append(BulkFailure(dn, error))
                    if on_result:
                        on_result(dn, error)
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)
        return failures

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """An LDAP transaction (RFC 5805): every write inside commits together or not at all."""
        try:
            with self._connection() as connection:
                connection.extended(TXN_START)
                if connection.result["result"] != 0:
                    raise error_for_result(connection.result, self.base_dn)
                yield from _in_transaction(Transaction(connection, connection.result["responseValue"]))
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc

    # -- authentication ----------------------------------------------------------------------

    def check_password(self, dn: str, password: str) -> bool:
        """True if `password` binds as `dn` (a fresh connection; the pool is not touched)."""
        if not bindable(password):
            return False
        connection = SecuredConnection(self._servers, user=dn, password=password, raise_exceptions=False,
                                       receive_timeout=self.config.receive_timeout, auto_referrals=False)
        try:
            open_secured(connection, self.config.uris)
            ok = bool(connection.bind())
            if not ok and connection.result["result"] not in (49, 50, 53):
                raise error_for_result(connection.result, dn)
            return ok
        except OUTAGES as exc:
            raise unreachable(", ".join(self.config.uris), _reason(exc)) from exc
        finally:
            _quietly_unbind(connection)

    def change_own_password(self, dn: str, old_password: str, new_hash: str) -> None:
        """Set a new password bound as the person (ppolicy then clears the must-change flag).

        Refusals (wrong old password, locked account, quality) raise the directory's reason.
        """
        if not bindable(old_password):
            raise error_for_result({"result": 49, "description": "invalidCredentials", "message": ""}, dn)
        connection = SecuredConnection(self._servers, user=dn, password=old_password, raise_exceptions=False,
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

    def __init__(self, connection: Connection, identifier: bytes) -> None:
        self._connection = connection
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
        self._connection.extended(TXN_END, _txn_end_value(self._identifier, commit))
        result = self._connection.result
        if commit and result["result"] != 0:
            raise error_for_result(result, self._first_dn or "transaction")


Batch = list[tuple[str, Mapping[str, Values]]]
Outcomes = list[tuple[str, Exception | None]]


def _chunks(entries: Iterable[tuple[str, Mapping[str, Values]]], size: int) -> Iterator[Batch]:
    batch: Batch = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _in_transaction(txn: Transaction) -> Iterator[Transaction]:
    """Yield the transaction; commit after the caller's block, abort if it raised."""
    try:
        yield txn
    except BaseException:
        _quietly(lambda: txn.end(commit=False))  # the caller's error matters, not the abort's
        raise
    txn.end(commit=True)


def _wait(connection: Connection, message_id: int) -> dict[str, Any]:
    """The result of a pipelined request, or the outage: a closed connection is seen at once.

    ldap3's receiver thread stops when the server closes the socket, but get_response waits
    out its whole timeout anyway: it is asked in short steps, looking at the connection between.
    """
    waited = 0.0
    while True:
        try:
            _, result = connection.get_response(message_id, timeout=RESPONSE_POLL_SECONDS, get_request=False)
            return result
        except ldap_errors.LDAPResponseTimeoutError:
            waited += RESPONSE_POLL_SECONDS
            if connection.closed:
                raise ldap_errors.LDAPSessionTerminatedByServerError("the server closed the connection") from None
            if waited >= RESPONSE_WAIT_SECONDS:
                raise


def _pipeline(connection: Connection, batch: Batch, controls: list[Any] | None) -> list[dict[str, Any]]:
    """Send every add without waiting (at most PIPELINE_WINDOW in flight); results in order."""
    results: list[dict[str, Any]] = []
    pending: deque[int] = deque()
    for dn, attributes in batch:
        pending.append(send_add(connection, dn, _clean(attributes), controls))  # wire.py: why not ldap3's add
        if len(pending) >= PIPELINE_WINDOW:
            results.append(_wait(connection, pending.popleft()))
    results.extend(_wait(connection, message_id) for message_id in pending)
    return results


def _add_pipelined(connection: Connection, batch: Batch) -> Outcomes:
    results = _pipeline(connection, batch, None)
    return [(dn, None if result["result"] == 0 else error_for_result(result, dn))
            for (dn, _), result in zip(batch, results, strict=True)]


def _add_batch_atomically(connection: Connection, batch: Batch) -> Outcomes | None:
    """The batch in one transaction; None if the server refused any of it (nothing written)."""
    start = _wait(connection, connection.extended(TXN_START))
    if start["result"] != 0:
        return None
    identifier = start["responseValue"]
    with _settled_on_error():
        results = _pipeline(connection, batch, [(TXN_SPEC, True, identifier)])
    commit = all(result["result"] == 0 for result in results)
    if not _end_transaction(connection, identifier, commit):
        return None
    return [(dn, None) for dn, _ in batch]


def _pipeline_sends(connection: Connection, batch: list[Any],
                    send: Callable[[Connection, Any, list[Any] | None], int],
                    controls: list[Any] | None) -> list[dict[str, Any]]:
    """Send every request of a batch without waiting (at most PIPELINE_WINDOW in flight); results in order."""
    results: list[dict[str, Any]] = []
    pending: deque[int] = deque()
    for item in batch:
        pending.append(send(connection, item, controls))
        if len(pending) >= PIPELINE_WINDOW:
            results.append(_wait(connection, pending.popleft()))
    results.extend(_wait(connection, message_id) for message_id in pending)
    return results


def _outcomes(batch: list[Any], results: list[dict[str, Any]]) -> Outcomes:
    return [(item[0], None if result["result"] == 0 else error_for_result(result, item[0]))
            for item, result in zip(batch, results, strict=True)]


def _batch_atomically(connection: Connection, batch: list[Any],
                      send: Callable[[Connection, Any, list[Any] | None], int]) -> Outcomes | None:
    """The batch in one transaction; None if the server refused any of it (nothing written)."""
    start = _wait(connection, connection.extended(TXN_START))
    if start["result"] != 0:
        return None
    identifier = start["responseValue"]
    with _settled_on_error():
        results = _pipeline_sends(connection, batch, send, [(TXN_SPEC, True, identifier)])
    commit = all(result["result"] == 0 for result in results)
    if not _end_transaction(connection, identifier, commit):
        return None
    return [(item[0], None) for item in batch]


def _end_transaction(connection: Connection, identifier: bytes, commit: bool) -> bool:
    """Commit (or abort) once slapd is done with the transaction's writes; True if committed."""
    time.sleep(TXN_SETTLE_SECONDS)  # see TXN_SETTLE_SECONDS: ending at once can crash slapd
    end = _wait(connection, connection.extended(TXN_END, _txn_end_value(identifier, commit)))
    return commit and end["result"] == 0


@contextmanager
def _settled_on_error() -> Iterator[None]:
    """On an error while writes of a transaction are in flight, wait before the caller closes the connection.

    Closing drops the transaction's queued operations (connection_abandon), which races with slapd's
    worker threads exactly as a TxnEnd does.
    """
    try:
        yield
    except BaseException:
        time.sleep(TXN_SETTLE_SECONDS)
        raise


def _flat_changes(changes: Changes) -> dict[str, tuple[str, Values]]:
    """Changes with one operation per attribute (what the lean encoder takes)."""
    flat: dict[str, tuple[str, Values]] = {}
    for name, change in changes.items():
        if isinstance(change, list):
            raise ValueError("modify_many takes one operation per attribute")
        flat[name] = change
    return flat


def _txn_end_value(identifier: bytes, commit: bool) -> bytes:
    """BER of RFC 5805's txnEndReq: SEQUENCE { commit BOOLEAN DEFAULT TRUE, identifier }."""
    return ber_sequence((b"" if commit else b"\x01\x01\x00") + ber_octets(identifier))


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


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _quietly_unbind(connection: Connection) -> None:
    _quietly(connection.unbind)


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception:
        pass
