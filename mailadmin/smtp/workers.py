"""`smtp.workers` above 1: N processes serve the same ports (SO_REUSEPORT), supervised by a parent.

The parent does what pre-forking daemons do (gunicorn's arbiter, Postfix's master):

- it reserves both ports first (bound, never listening), so a port in use fails at once and port 0
  means one free port for every worker; each worker binds the same ports with SO_REUSEPORT and the
  kernel spreads new connections over the workers that listen;
- a worker that dies before it listens stops the service (exit code 1): a configuration or
  environment error that a restart would only repeat;
- a worker that dies later is replaced, at most RESTART_LIMIT times in RESTART_WINDOW seconds;
  past that the service stops (exit code 1) with a message, rather than flapping;
- SIGTERM or SIGINT to the parent is passed to every worker as SIGTERM; a worker that has not
  exited after STOP_SECONDS is killed; the parent then exits 0;
- a worker whose parent vanished (SIGKILL) stops by itself: it watches a pipe only the parent holds.

Workers are spawned (a fresh interpreter), never forked from a process holding LDAP connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, cast

from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.logs import configure_logging
from mailadmin.settings import Settings
from mailadmin.smtp.config import SmtpConfig, mail_routing
from mailadmin.smtp.server import Listening, SmtpService, serve_until_signalled
from mailadmin.smtp.tls import ensure_self_signed

RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
STOP_SECONDS = 30.0
SPAWN = multiprocessing.get_context("spawn")


def run_worker(settings: Settings, config: SmtpConfig, parent: Connection) -> None:
    """One worker: its own directory connections and event loop on the shared ports."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    configure_logging(settings)
    routing = mail_routing(settings)
    try:
        asyncio.run(serve_until_signalled(SmtpService(config, routing, reuse_port=True), parent.send,
                                          stop_when_readable=parent.fileno(), signals=(signal.SIGTERM,)))
    finally:
        routing.close()


@dataclass
class Worker:
    """A worker process, the pipe it reports readiness on, and whether it listens yet."""

    process: BaseProcess
    pipe: Connection
    slot: int = 0  # worker k serves metrics on smtp.metrics_port + k
    ready: bool = False


class Supervisor:
    """Starts, watches, replaces and stops the worker processes."""

    def __init__(self, settings: Settings, config: SmtpConfig, report: Callable[[str], None]) -> None:
        self.settings = settings
        self.report = report
        self._reserved = [_reserve(config.host, config.port), _reserve(config.host, config.submission_port)]
        ports = [reserved.getsockname()[1] for reserved in self._reserved]
        self.listening = Listening(ports[0], ports[1])
        self.config = dataclasses.replace(config, port=ports[0], submission_port=ports[1])
        self.workers: list[Worker] = []
        self._restarts: deque[float] = deque()
        self._stopping = False
        self._wake_read, self._wake_write = socket.socketpair()

    def run(self, on_ready: Callable[[Listening], None]) -> int:
        """Serve until SIGTERM or SIGINT (0), or until the workers cannot be kept running (1)."""
        for end in (self._wake_read, self._wake_write):
            end.setblocking(False)
        previous = {signum: signal.signal(signum, self._on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
        previous_wakeup = signal.set_wakeup_fd(self._wake_write.fileno())
        try:
            if self.config.self_signed:  # once, before the workers could race to make it
                ensure_self_signed(self.config.tls_cert, self.config.tls_key, self.config.hostname)
            for slot in range(self.config.workers):
                self._start(slot)
            return self._watch(on_ready)
        finally:
            self._stop_all()
            signal.set_wakeup_fd(previous_wakeup)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for closing in (*self._reserved, self._wake_read, self._wake_write):
                closing.close()

    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return [worker.process.pid for worker in self.workers if worker.process.pid is not None]

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stopping = True

    def _start(self, slot: int) -> None:
        mine, theirs = SPAWN.Pipe()
        metrics_port = self.config.metrics_port + slot if self.config.metrics_port else 0
        config = dataclasses.replace(self.config, metrics_port=metrics_port)
        process = SPAWN.Process(target=run_worker, args=(self.settings, config, theirs),
                                name="mailadmin-smtpd-worker")
        process.start()
        theirs.close()  # only the worker holds its end: it sees EOF on ours when we are gone
        self.workers.append(Worker(process, mine, slot))

    def _watch(self, on_ready: Callable[[Listening], None]) -> int:
        announced = False
        while not self._stopping:
            if not announced and all(worker.ready for worker in self.workers):
                on_ready(self.listening)
                announced = True
            starting = {worker.pipe: worker for worker in self.workers if not worker.ready}
            running = {worker.process.sentinel: worker for worker in self.workers}
            for event in wait([self._wake_read, *starting, *running]):
                if event is self._wake_read:
                    self._drain_wakeups()
                elif event in starting:
                    _receive_ready(starting[event])
                elif (code := self._replace(running[cast(int, event)])) != 0:
                    return code
        return 0

    def _replace(self, worker: Worker) -> int:
        worker.process.join()
        self.workers.remove(worker)
        worker.pipe.close()
        if self._stopping:
            return 0
        how = _exit_description(worker.process.exitcode)
        if not worker.ready:
            self.report(f"SMTP worker {worker.process.pid} failed to start ({how}): stopping the service "
                        f"(tiến trình SMTP không khởi động được: dừng dịch vụ)")
            return 1
        now = time.monotonic()
        while self._restarts and now - self._restarts[0] > RESTART_WINDOW:
            self._restarts.popleft()
        if len(self._restarts) >= RESTART_LIMIT:
            self.report(f"SMTP worker {worker.process.pid} exited ({how}), the {RESTART_LIMIT + 1}th in "
                        f"{RESTART_WINDOW:.0f} s: stopping the service (quá nhiều lần khởi động lại: dừng dịch vụ)")
            return 1
        self._restarts.append(now)
        self.report(f"SMTP worker {worker.process.pid} exited ({how}): starting another "
                    f"(tiến trình SMTP đã dừng: khởi động lại)")
        self._start(worker.slot)
        return 0

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_read.recv(512):
                pass
        except BlockingIOError:
            pass

    def _stop_all(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: close the listeners, finish, exit
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                self.report(f"SMTP worker {worker.process.pid} still running after {STOP_SECONDS:.0f} s: killed")
                worker.process.kill()
                worker.process.join()
            worker.pipe.close()
        self.workers.clear()


def _receive_ready(worker: Worker) -> None:
    try:
        worker.pipe.recv()
    except EOFError:
        return  # it died before listening: its sentinel says so
    worker.ready = True


def _reserve(host: str, port: int) -> socket.socket:
    """Bind (never listen) with SO_REUSEPORT: the port is ours, and 0 becomes one port for every worker."""
    family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    reserved = socket.socket(family, kind, protocol)
    try:
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserved.bind(address)
    except OSError as exc:
        reserved.close()
        raise ConfigError(t("Không mở được cổng {host}:{port}: {e}", "cannot bind {host}:{port}: {e}",
                            host=host, port=port, e=exc.strerror or exc)) from exc
    return reserved


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit code {code}"
