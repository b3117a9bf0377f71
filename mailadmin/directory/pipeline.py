"""Bulk writes pipelined on ldap3 connections: adds and modifies in LDAP transactions (RFC 5805) of a batch each.

A batch's writes are sent without waiting for each answer (at most PIPELINE_WINDOW in flight). slapd only
queues writes sent under a transaction and executes them all at the TxnEnd, in one database transaction:
one fsync per batch. Two connections take turns: the settle wait before each TxnEnd (below) is spent
building, encoding and sending the next batch on the other connection instead of sleeping. Batches commit
in order, each commit is waited for as soon as it is sent (BulkWriter._tend_pending says why), and a batch
is reported (and a refused one replayed write by write) only once the one before it is. Each connection's
socket is handed to a keeper process (keeper.py): a writer killed mid-commit must not crash slapd 2.5.13.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ldap3 import Connection
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory.controls import ber_octets, ber_sequence
from mailadmin.directory.keeper import KeptSocket, keep_socket
from mailadmin.directory.results import error_for_result

log = logging.getLogger(__name__)
PIPELINE_WINDOW = 256  # slapd drops a connection past ~1,000 outstanding operations
TXN_START, TXN_SPEC, TXN_END = "1.3.6.1.1.21.1", "1.3.6.1.1.21.2", "1.3.6.1.1.21.3"
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

Item = TypeVar("Item")
# Sends one write on a connection (with the controls given, e.g. the transaction's); returns its message id.
Send = Callable[[Connection, Any, "list[Any] | None"], int]
Outcomes = list[tuple[str, "Exception | None"]]


def chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """The items in lists of `size` (the last one shorter)."""
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def wait_response(connection: Connection, message_id: int) -> dict[str, Any]:
    """The result of a pipelined request, or the outage: a closed connection is seen at once.

    ldap3's receiver thread stops when the server closes the socket, but get_response waits
    out its whole timeout anyway: it is asked in short steps, looking at the connection between.
    """
    waited = 0.0
    while True:
        try:
            _, result = connection.get_response(message_id, timeout=RESPONSE_POLL_SECONDS, get_request=False)
            return result
        except AttributeError:  # ldap3 drops its table of outstanding requests when the socket closes
            raise ldap_errors.LDAPSessionTerminatedByServerError("the server closed the connection") from None
        except ldap_errors.LDAPResponseTimeoutError:
            waited += RESPONSE_POLL_SECONDS
            if connection.closed:
                raise ldap_errors.LDAPSessionTerminatedByServerError("the server closed the connection") from None
            if waited >= getattr(connection, "response_wait", RESPONSE_WAIT_SECONDS):
                raise


def pipeline_sends(connection: Connection, batch: list[Any], send: Send, controls: list[Any] | None,
                   between: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Send every request of a batch without waiting (at most PIPELINE_WINDOW in flight); results in order.

    `between` runs after each send (the turn of the other connection's transaction end).
    """
    results: list[dict[str, Any]] = []
    pending: deque[int] = deque()
    for item in batch:
        pending.append(send(connection, item, controls))
        if between:
            between()
        if len(pending) >= PIPELINE_WINDOW:
            results.append(wait_response(connection, pending.popleft()))
    results.extend(wait_response(connection, message_id) for message_id in pending)
    return results


def outcomes(batch: list[Any], results: list[dict[str, Any]]) -> Outcomes:
    """Each write's DN with None, or the error the server answered."""
    return [(item[0], None if result["result"] == 0 else error_for_result(result, item[0]))
            for item, result in zip(batch, results, strict=True)]


def txn_end_value(identifier: bytes, commit: bool) -> bytes:
    """BER of RFC 5805's txnEndReq: SEQUENCE { commit BOOLEAN DEFAULT TRUE, identifier }."""
    return ber_sequence((b"" if commit else b"\x01\x01\x00") + ber_octets(identifier))


@contextmanager
def settled_on_error() -> Iterator[None]:
    """On an error while writes of a transaction are in flight, wait before the caller closes the connection.

    Closing drops the transaction's queued operations (connection_abandon), which races with slapd's
    worker threads exactly as a TxnEnd does.
    """
    try:
        yield
    except BaseException:
        time.sleep(TXN_SETTLE_SECONDS)
        raise


@dataclass
class _Pending:
    """A batch whose writes slapd holds in a transaction not yet ended (or whose end is not yet answered)."""

    connection: Connection
    batch: list[Any]
    identifier: bytes
    commit: bool  # every write was accepted into the transaction
    answered_at: float  # time.monotonic() of its last answer
    keeper: KeptSocket | None  # told while the commit runs (keeper.py)
    end_id: int | None = None
    end: dict[str, Any] | None = None

    def settled(self) -> bool:
        """Has slapd had TXN_SETTLE_SECONDS since the last answer (see there)?"""
        return time.monotonic() - self.answered_at >= TXN_SETTLE_SECONDS

    def poll(self) -> None:
        """Send the TxnEnd once slapd has settled; take its answer if it has come (no wait)."""
        if self.end_id is None:
            if self.settled():
                self._send_end()
        elif self.end is None:
            self._take_end(answer_if_any(self.connection, self.end_id))

    def committed(self) -> bool:
        """Wait for the transaction's end (sending it when it is time); True if the batch is written."""
        if self.end_id is None:
            time.sleep(max(0.0, TXN_SETTLE_SECONDS - (time.monotonic() - self.answered_at)))
            self._send_end()
        if self.end is None:
            assert self.end_id is not None
            self._take_end(wait_response(self.connection, self.end_id))
        assert self.end is not None
        return self.commit and self.end["result"] == 0

    def _send_end(self) -> None:
        if self.keeper:
            self.keeper.committing()
        self.end_id = connection_extended(self.connection, TXN_END, txn_end_value(self.identifier, self.commit))

    def _take_end(self, end: dict[str, Any] | None) -> None:
        self.end = end
        if end is not None and self.keeper:
            self.keeper.done()


def answer_if_any(connection: Connection, message_id: int) -> dict[str, Any] | None:
    """The result of a pipelined request if it has come, else None (no wait)."""
    try:
        _, result = connection.get_response(message_id, timeout=0, get_request=False)
    except ldap_errors.LDAPResponseTimeoutError:
        return None
    except AttributeError:  # ldap3 drops its table of outstanding requests when the socket closes
        raise ldap_errors.LDAPSessionTerminatedByServerError("the server closed the connection") from None
    return dict(result)


def start_keeper(connection: Connection) -> KeptSocket | None:
    """The connection's socket handed to the keeper (keeper.py); None, and a warning, if it cannot be."""
    try:
        return keep_socket(connection.socket.fileno())
    except OSError as exc:
        log.warning("bulk writes without a socket keeper (%s): killing this process mid-commit may crash slapd", exc)
        return None


@contextmanager
def kept_while(connection: Connection) -> Iterator[KeptSocket | None]:
    """The connection's socket in the keeper's hands for the block (a transaction on a pooled connection)."""
    kept = start_keeper(connection)
    try:
        yield kept
    finally:
        if kept:
            kept.release()


def drop_socket(connection: Connection) -> None:
    """Close this process's copy of the connection's socket, sending nothing (no unbind, no shutdown)."""
    try:
        connection.socket.close()
    except (AttributeError, OSError):
        pass
    connection.closed = True


def connection_extended(connection: Connection, oid: str, value: bytes | None = None) -> int:
    """Send an extended request on an ASYNC connection; its message id."""
    return int(connection.extended(oid, value))


class BulkWriter:
    """Batches written on up to two connections, in transactions when `atomic`; outcomes reported in order."""

    def __init__(self, open_connection: Callable[[], Connection], send: Send,
                 report: Callable[[Outcomes], None], atomic: bool) -> None:
        self._open_connection = open_connection
        self._send = send
        self._report = report
        self._atomic = atomic
        self.connections: list[Connection] = []
        self._keepers: list[KeptSocket | None] = []
        self._pending: _Pending | None = None
        self._ending: _Pending | None = None  # the transaction whose end was sent last

    def write_all(self, batches: Iterable[list[Any]]) -> None:
        """Write every batch; the last transaction is ended before this returns."""
        with settled_on_error():
            for batch in batches:
                self._write(batch)
            self._finish_pending()

    def _write(self, batch: list[Any]) -> None:
        connection = self._free_connection()
        if not self._atomic:
            self._report(outcomes(batch, pipeline_sends(connection, batch, self._send, None)))
            return
        started = self._begin(connection, batch)
        self._finish_pending()
        if started is None:  # no transaction to be had: write by write
            self._replay(connection, batch)
        self._pending = started

    def _begin(self, connection: Connection, batch: list[Any]) -> _Pending | None:
        """Send the batch inside a new transaction (the pending one ends meanwhile when it is time)."""
        start = wait_response(connection, connection_extended(connection, TXN_START))
        if start["result"] != 0:
            return None
        identifier = start["responseValue"]
        results = pipeline_sends(connection, batch, self._send, [(TXN_SPEC, True, identifier)], self._tend_pending)
        return _Pending(connection, batch, identifier, all(result["result"] == 0 for result in results),
                        time.monotonic(), self._keepers[self.connections.index(connection)])

    def _tend_pending(self) -> None:
        """Between two sends: end the pending transaction once slapd has settled; report it once committed.

        slapd commits while the next batch is sent; the commit's answer is taken as soon as it has come, so a
        committed batch is journaled at once. A batch whose commit is unanswered when the server dies is what a
        resume must find again, possibly on another server (importer/engine.py, _found_add).
        """
        pending = self._ending = self._pending
        if pending is None or (pending.end is not None and not pending.committed()):
            return
        pending.poll()
        if pending.end is not None and pending.committed():
            self._pending = None
            self._report([(item[0], None) for item in pending.batch])

    def _finish_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self._ending = pending
        if pending.committed():
            self._report([(item[0], None) for item in pending.batch])
        else:
            self._replay(pending.connection, pending.batch)

    def _replay(self, connection: Connection, batch: list[Any]) -> None:
        """A batch the server refused as a whole, write by write (pipelined, no transaction)."""
        self._report(outcomes(batch, pipeline_sends(connection, batch, self._send, None)))

    def _free_connection(self) -> Connection:
        """A connection no pending transaction holds (a second one is opened when first needed)."""
        busy = self._pending.connection if self._pending else None
        for connection in self.connections:
            if connection is not busy:
                return connection
        self.connections.append(self._open_connection())
        # Only transactions need the keeper: a pipeline of plain writes (moves) left open to it would go on being
        # carried out after the writer died, beside the resume (tests/reorg/test_demo_interrupted.py: KeyError).
        self._keepers.append(start_keeper(self.connections[-1]) if self._atomic else None)
        return self.connections[-1]

    def commit_unanswered(self) -> Connection | None:
        """The connection whose transaction end was sent and not answered (the server may yet commit), if any."""
        ending = self._ending
        return ending.connection if ending and ending.end_id is not None and ending.end is None else None

    def close(self, close_connection: Callable[[Connection], None], lost: bool) -> None:
        """Close every connection and let its keeper go; after an outage, leave each to its keeper instead.

        A writer that lost the server may have stopped waiting for answers (slapd frozen): slapd 2.5.13 aborts when it
        wakes to a connection closed under a transaction it holds (keeper.py). The keeper reads and drops
        what slapd answers, then closes once slapd is quiet. A commit it may still carry out is the job's
        to settle (errors.CommitInDoubt).
        """
        for connection, keeper in zip(self.connections, self._keepers, strict=True):
            if keeper and lost:
                keeper.leave()
                drop_socket(connection)
                continue
            close_connection(connection)
            if keeper:
                keeper.release()
