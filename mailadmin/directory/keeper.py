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
KEEPER_QUIET_SECONDS, then closes it: slapd ends a connection nobody is using. Protocol-blind on
purpose: a socket may carry TLS the keeper cannot read.
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
KEEPER_MAX_SECONDS = 30.0  # a commit whose answer the writer had read before it died is not waited for longer
KEEP, COMMITTING, DONE, RELEASE = b"K", b"C", b"D", b"R"
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
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        atexit.register(self.stop)

    def keep(self, socket_fd: int) -> KeptSocket:
        """Hand the keeper a copy of a connection's socket."""
        with self._lock:
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
        if os.getpid() != self.pid:  # a forked child's exit: the keeper is its parent's
            return
        self._control.close()
        try:
            self._process.wait(timeout=KEEPER_MAX_SECONDS)
        except subprocess.TimeoutExpired:
            pass


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


_keeper: Keeper | None = None
_keeper_lock = threading.Lock()


def keep_socket(socket_fd: int) -> KeptSocket:
    """Hand a bulk connection's socket to this process's keeper (started, or started again, as needed)."""
    global _keeper
    with _keeper_lock:
        if _keeper is None or _keeper.pid != os.getpid() or not _keeper.alive():
            _keeper = Keeper()  # a forked child has its own; a keeper someone killed is replaced
        return _keeper.keep(socket_fd)


def _message(kind: bytes, number: int) -> bytes:
    return kind + number.to_bytes(8, "big")


# -- the keeper process -------------------------------------------------------------------------


class _Held:
    """A socket the keeper holds, and whether a commit on it awaits its answer."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.committing = False
        self.quiet_until = 0.0


def serve(control_fd: int) -> None:
    """The keeper's life: hold sockets while the writer lives, then let slapd finish with each."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(number, signal.SIG_IGN)  # a stop sent to the writer's whole group must not close early
    held: dict[int, _Held] = {}
    with socket.socket(fileno=control_fd) as control:
        while _take(control, held):
            pass
    _drain(list(held.values()))


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
    elif number in held:
        held[number].committing = kind == COMMITTING
    for fd in fds:
        os.close(fd)
    return True


def _drain(sockets: list[_Held]) -> None:
    """Read every socket until slapd has been quiet long enough on it (after its commit's answer)."""
    deadline = time.monotonic() + KEEPER_MAX_SECONDS
    for kept in sockets:
        kept.quiet_until = time.monotonic() + KEEPER_QUIET_SECONDS
    while sockets and (now := time.monotonic()) < deadline:
        for kept in [k for k in sockets if not k.committing and k.quiet_until <= now]:
            _close(kept, sockets)
        if not sockets:
            return
        wake = min([deadline] + [k.quiet_until for k in sockets if not k.committing])
        readable, _, _ = select.select([k.fd for k in sockets], [], [], max(0.0, wake - now))
        for kept in [k for k in sockets if k.fd in readable]:
            _read(kept, sockets)
    for kept in list(sockets):
        _close(kept, sockets)


def _read(kept: _Held, sockets: list[_Held]) -> None:
    """Drop what slapd sent; a closed connection is done with."""
    try:
        data = os.read(kept.fd, 65536)
    except OSError:
        data = b""
    if not data:
        _close(kept, sockets)
        return
    kept.committing, kept.quiet_until = False, time.monotonic() + KEEPER_QUIET_SECONDS


def _close(kept: _Held, sockets: list[_Held]) -> None:
    sockets.remove(kept)
    os.close(kept.fd)


if __name__ == "__main__":
    serve(int(sys.argv[1]))
