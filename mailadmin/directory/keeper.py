"""Bulk writers' sockets kept open after their process dies, until slapd is done with each connection.

slapd 2.5.13 frees a connection's queued transaction operations as soon as it sees the connection
close (connection_abandon), while other threads may still use them: the worker that has just answered
a write (ITS#9892), or the TxnEnd executing the transaction (txn_end_extop unlocks the connection
between writes). A writer killed with kill -9 (or SIGTERM, or the OOM killer) closes its sockets at
once, right behind the requests slapd is still reading: slapd segfaults, and every mail server loses
its directory.

So each process that writes in bulk has a keeper: a small process (this file run as a script,
standard library only) to which every bulk connection's socket descriptor is passed (SCM_RIGHTS), and
which is told when a commit is under way on it and when the writer has closed it. While the writer
lives the keeper only reads those messages. When they end (the writer is gone), it reads and drops
slapd's answers on each socket still held until the commit is answered and nothing more comes for
KEEPER_QUIET_SECONDS, then closes it: slapd ends a connection nobody is using. A writer that stops
waiting for an answer (slapd frozen past ldap.receive_timeout) leaves the connection to the keeper the
same way instead of closing it (a child of the keeper drains it while the writer goes on): slapd 2.5.13
aborts if it wakes to a closed connection whose transaction is open. Whether slapd then carries out a
commit it held is the job's to settle (errors.CommitInDoubt). Protocol-blind on purpose: a socket may
carry TLS the keeper cannot read.
"""

from __future__ import annotations

import atexit
import itertools
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

KEEPER_QUIET_SECONDS = 0.5  # no answer for this long: slapd has read and answered all a dead writer sent
# A due answer is waited for this long at most: slapd may be frozen (SIGSTOP, a stalled disk) and would abort
# on waking to a closed connection whose transaction is open; and the answer may have been read already.
KEEPER_MAX_SECONDS = 900.0
KEEP, COMMITTING, DONE, RELEASE, LEFT = b"K", b"C", b"D", b"R", b"L"
_MESSAGE = 9  # one kind byte and an 8-byte socket number


class Keeper:
    """The writer's side: one keeper process for this process, started at the first kept socket."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True)  # Ctrl-C and hangups are not for it
        self._numbers = itertools.count(1)  # taken under keep_socket's lock
        atexit.register(self.stop)

    def keep(self, socket_fd: int) -> KeptSocket:
        """Hand the keeper a copy of a connection's socket."""
        number = next(self._numbers)
        socket.send_fds(self._control, [_message(KEEP, number)], [socket_fd])
        return KeptSocket(self, number)

    def say(self, kind: bytes, number: int) -> None:
        """Tell the keeper about one kept socket (a keeper that is gone is not an error here)."""
        try:
            self._control.send(_message(kind, number))
        except OSError:
            pass

    def alive(self) -> bool:
        """Is the keeper process still there?"""
        return self._process.poll() is None

    def stop(self) -> None:
        """This process ends normally: the keeper closes what it still holds and ends too."""
        if os.getpid() != self.pid:  # a forked child: the keeper is its parent's (its copy of the socket goes)
            self._control.close()
            return
        atexit.unregister(self.stop)
        self._control.close()
        self._process.wait()  # at once: what is still draining goes on in a child of the keeper (serve)


class KeptSocket:
    """One bulk connection's socket as the keeper holds it."""

    def __init__(self, keeper: Keeper, number: int) -> None:
        self._keeper = keeper
        self._number = number

    def committing(self) -> None:
        """A TxnEnd is sent: should the writer die now, its answer is waited for."""
        self._keeper.say(COMMITTING, self._number)

    def done(self) -> None:
        """The TxnEnd is answered."""
        self._keeper.say(DONE, self._number)

    def release(self) -> None:
        """The writer has closed the connection: the keeper closes its copy."""
        self._keeper.say(RELEASE, self._number)

    def leave(self) -> None:
        """The writer gives the connection up with an answer due (it stopped waiting): the keeper drains it."""
        self._keeper.say(LEFT, self._number)


_keeper: Keeper | None = None
_keeper_lock = threading.Lock()


def keep_socket(socket_fd: int) -> KeptSocket:
    """Hand a bulk connection's socket to this process's keeper (started, or started again, as needed)."""
    global _keeper
    with _keeper_lock:
        if _keeper is None or _keeper.pid != os.getpid() or not _keeper.alive():
            _keeper = _replaced(_keeper)
        try:
            return _keeper.keep(socket_fd)
        except OSError:  # killed a moment ago (poll() did not see it yet): once more, with a new one
            _keeper = _replaced(_keeper)
            return _keeper.keep(socket_fd)


def _replaced(old: Keeper | None) -> Keeper:
    """A new keeper; the old one's control socket closed and its process reaped (a parent's left alone)."""
    if old is not None:
        old.stop()
    return Keeper()  # a forked child has its own; a keeper someone killed is replaced


def _message(kind: bytes, number: int) -> bytes:
    return kind + number.to_bytes(8, "big")


# -- the keeper process -------------------------------------------------------------------------


class _Held:
    """A socket the keeper holds: whether an answer is due on it, and until when it is drained."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.awaiting = False  # a commit's answer is due
        self.quiet_until = 0.0
        self.deadline = 0.0

    def drain(self) -> None:
        """From now on slapd's answers are read and dropped until it is finished with the connection."""
        now = time.monotonic()
        self.quiet_until, self.deadline = now + KEEPER_QUIET_SECONDS, now + KEEPER_MAX_SECONDS

    def finished(self, now: float) -> bool:
        """Has slapd answered what was due and then been quiet (or has the keeper waited long enough)?"""
        return (not self.awaiting and self.quiet_until <= now) or self.deadline <= now

    def wake_at(self) -> float:
        return self.deadline if self.awaiting else min(self.quiet_until, self.deadline)


def serve(control_fd: int) -> None:
    """The keeper's life: hold sockets while the writer lives, drain those it leaves, then all of them."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(number, signal.SIG_IGN)  # a stop sent to the writer's whole group must not close early
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the children draining left sockets reap themselves
    held: dict[int, _Held] = {}
    with socket.socket(fileno=control_fd) as control:
        while _take(control, held):
            pass
    draining = list(held.values())
    for kept in draining:
        kept.drain()
    if draining and os.fork() > 0:
        return  # the rest is drained by a child of its own, so that a writer ending normally need not wait
    _drain_all(draining)


def _drain_all(draining: list[_Held]) -> None:
    """Read and drop slapd's answers on each socket until slapd is finished with it, then close it."""
    while draining:
        _tend(draining, _wait(draining))


def _take(control: socket.socket, held: dict[int, _Held]) -> bool:
    """Apply one message from the writer; False once the writer is gone."""
    try:
        data, fds, _, _ = socket.recv_fds(control, _MESSAGE, 4)
    except OSError:
        return False
    if not data:
        return False
    kind, number = data[:1], int.from_bytes(data[1:], "big")
    if kind == KEEP and fds:
        held[number] = _Held(fds.pop())
    elif kind == RELEASE and number in held:
        os.close(held.pop(number).fd)
    elif kind == LEFT and number in held:
        _drain_apart(held.pop(number), control, held)
    elif number in held:
        held[number].awaiting = kind == COMMITTING
    for fd in fds:
        os.close(fd)
    return True


def _drain_apart(kept: _Held, control: socket.socket, held: dict[int, _Held]) -> None:
    """Drain a socket the living writer left, in a child, while this keeper goes on serving the writer."""
    if os.fork() > 0:
        os.close(kept.fd)
        return
    control.close()
    for other in held.values():
        os.close(other.fd)
    kept.awaiting = True
    kept.drain()
    _drain_all([kept])
    os._exit(0)


def _wait(draining: list[_Held]) -> list[int]:
    """The sockets readable before the next one is due to be looked at."""
    timeout = max(0.0, min(k.wake_at() for k in draining) - time.monotonic())
    readable, _, _ = select.select([k.fd for k in draining], [], [], timeout)
    return readable


def _tend(draining: list[_Held], readable: list[int]) -> None:
    """Drop what slapd sent on the sockets being drained; close those it is finished with."""
    for kept in [k for k in draining if k.fd in readable]:
        if _read(kept):
            kept.awaiting, kept.quiet_until = False, time.monotonic() + KEEPER_QUIET_SECONDS
        else:
            kept.deadline = 0.0  # slapd closed the connection: nothing left to wait for
    now = time.monotonic()
    for kept in [k for k in draining if k.finished(now)]:
        draining.remove(kept)
        os.close(kept.fd)


def _read(kept: _Held) -> bool:
    """Read what has come; False when the connection is closed."""
    try:
        return bool(os.read(kept.fd, 65536))
    except OSError:
        return False


if __name__ == "__main__":
    serve(int(sys.argv[1]))
