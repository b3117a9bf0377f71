"""Benchmark: SMTP AUTH logins/s through `mailadmin smtpd` against bare LDAP simple binds of the same
users, and messages/s delivered to Maildir against bare fsynced Maildir writes, in one run.

Target: AUTH >= 0.8x the bare bind rate (the directory is the limit, not our service).

Method. A brand-new private slapd (durable mdb, free loopback port, state folder in a temporary
directory below var/) is initialised (password policy + unit tree) and given --users mailboxes in
a unit of their own, each with a known password hashed as mailadmin hashes it (--scheme ssha512:
generated initial passwords, {SSHA512}; argon2: passwords people chose, {ARGON2} argon2id with the
configured cost). Their ppolicy must-change flag (pwdReset) is cleared so that they can log in:
mailadmin refuses AUTH with a password it generated until its owner changed it, so {SSHA512}
logins are a stress case production never sees (the cheapest bind slapd does). The SMTP service
is `python -m mailadmin smtpd` in its own process, as deployed (8 directory worker threads per
process, the read-only mail-server account), --workers processes sharing the ports (SO_REUSEPORT),
on free loopback ports, with the development flag that allows AUTH without TLS on loopback;
--in-process runs it on an event loop thread of the benchmark instead, where it shares one GIL
with the client threads. Every measurement sends --logins attempts from --concurrency client
threads, users taken round-robin:

  bare bind new   ldap3: new connection, simple bind as the user's DN, unbind; DNs known in advance
  bare bind kept  ldap3: simple bind as the user's DN on kept-open connections (one per client
                  thread), DNs known in advance: the directory's bind limit from Python. The
                  ratios are against the better of the two.
  AUTH plain      smtplib: connect, EHLO, AUTH PLAIN, QUIT (dev flag: AUTH without TLS on loopback)
  AUTH TLS        smtplib: connect, EHLO, STARTTLS, EHLO, AUTH PLAIN, QUIT (what a mail client does)

The service finds a login's DN by a search as the read-only account (cached for a minute: the
warm-up fills it, in each worker it reaches), then binds on a kept-open connection with the
password-policy control (BindChecker; "bare bind kept" sends the same control). Every attempt must succeed,
else the run fails. Delivery: --messages messages of --size bytes to random users over
--concurrency inbound connections (many messages per connection), each fsynced into
<spool>/<uid>/new before the 250; against bare `maildir.deliver` of the same messages from the same
number of threads. Exits non-zero only when a measurement fails, never on a missed target. The
slapd and the smtpd process are stopped by their PIDs, the temporary folder removed. The load
average is printed before the run (other work on the machine) and after it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailadmin.directory.binder import Bind, BindChecker  # noqa: E402
from mailadmin.directory.client import DirectoryClient  # noqa: E402
from mailadmin.model import Unit, UnitKind  # noqa: E402
from mailadmin.passwords import hash_chosen, hash_generated  # noqa: E402
from mailadmin.services.mailboxes import NewMailbox  # noqa: E402
from mailadmin.services.setup import initialise  # noqa: E402
from mailadmin.settings import Settings, load_settings  # noqa: E402
from mailadmin.slapd import PrivateSlapd, SlapdPaths  # noqa: E402
from mailadmin.smtp import maildir  # noqa: E402
from mailadmin.smtp.config import mail_routing, smtp_config  # noqa: E402
from mailadmin.smtp.server import Listening, ServiceThread, SmtpService  # noqa: E402
from mailadmin.wiring import Services  # noqa: E402


@dataclass
class Rate:
    name: str
    count: int
    seconds: float
    slapd_cpu_ms: float | None = None  # CPU time per operation, user + system
    smtpd_cpu_ms: float | None = None  # the smtpd process and its workers (not with --in-process)
    client_cpu_ms: float | None = None  # this process: the client threads (and the service, --in-process)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(name: str, count: int, concurrency: int, attempt: Callable[[int], None]) -> Rate:
    """Run attempt(0..count-1) from `concurrency` threads; every attempt must succeed."""
    counter = itertools.count()

    def worker() -> None:
        while (index := next(counter)) < count:
            attempt(index)
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    return Rate(name, count, time.perf_counter() - start)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def make_users(services: Services, count: int, scheme: str) -> list[tuple[str, str, str]]:
    """(uid, dn, password) of `count` new mailboxes in a unit of their own."""
    unit = Unit(code="BENCH", name="Đơn vị đo hiệu năng", kind=UnitKind.AGENCY, path=("54", "BENCH"))
    services.units.store.add(unit)
    services.units.forget()
    allocator = services.mailboxes.allocator(bulk=True)
    prepared = [services.mailboxes.prepare(NewMailbox(full_name="Người Đo Thử", unit_code=unit.code),
                                           allocator)[0] for i in range(count)]
    passwords = [f"Bench-{i:05d}-{random.randrange(10**9)}" for i in range(count)]
    policy = services.settings.passwords
    hashes = [hash_generated(p) if scheme == "ssha512" else hash_chosen(p, policy) for p in passwords]
    failures = services.mailboxes.store.add_many((m, unit.path, h) for m, h in zip(prepared, hashes, strict=True))
    if failures:
        raise SystemExit(f"could not create the users: {failures[0]}")
    users = [(m.uid, services.mailboxes.store.dn_of(m, unit.path), p) for m, p in zip(prepared, passwords, strict=True)]
    for _, dn, _ in users:  # as if each had changed their password: smtpd refuses a must-change one
        services.mailboxes.store.clear_password_reset(dn)
    return users


def bare_bind(check: Callable[[str, str], bool], users: list[tuple[str, str, str]]) -> Callable[[int], None]:
    def attempt(index: int) -> None:
        _, dn, password = users[index % len(users)]
        if not check(dn, password):
            raise SystemExit(f"bare bind failed for {dn}")
    return attempt


def smtp_auth(port: int, users: list[tuple[str, str, str]], tls: bool) -> Callable[[int], None]:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE

    def attempt(index: int) -> None:
        uid, _, password = users[index % len(users)]
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            if tls:
                client.starttls(context=context)
            code, _ = client.login(uid, password)
            if code != 235:
                raise SystemExit(f"AUTH failed for {uid}: {code}")
    return attempt


def deliveries(port: int, users: list[tuple[str, str, str]], count: int, size: int,
               concurrency: int, domain: str) -> Rate:
    line = "Noi dung thu do hieu nang, dong 72 ky tu de khong vuot gioi han dong.\r\n"
    body = (line * (size // len(line) + 1))[:size]
    per_connection = -(-count // concurrency)

    def session(worker: int) -> None:
        todo = min(per_connection, count - worker * per_connection)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            for n in range(max(todo, 0)):
                uid = users[(worker * per_connection + n) % len(users)][0]
                message = f"From: a@example.org\r\nTo: {uid}@{domain}\r\nSubject: do {n}\r\n\r\n{body}\r\n"
                client.sendmail("a@example.org", [f"{uid}@{domain}"], message.encode())
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(session, w) for w in range(concurrency)]:
            future.result()
    return Rate("smtp delivery", count, time.perf_counter() - start)


def bare_maildir(spool: Path, count: int, size: int, concurrency: int) -> Rate:
    message = b"x" * size
    return timed("bare maildir", count, concurrency,
                 lambda i: maildir.deliver(spool / f"bare{i % 64}", message))


def delivered(spool: Path, users: list[tuple[str, str, str]]) -> int:
    return sum(len(os.listdir(spool / uid / "new")) for uid, _, _ in users if (spool / uid / "new").exists())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--logins", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096, help="message body bytes")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="smtpd processes (smtp.workers)")
    parser.add_argument("--scheme", choices=["ssha512", "argon2"], default="ssha512")
    parser.add_argument("--in-process", action="store_true",
                        help="run the service in this process (shares the clients' GIL) instead of `mailadmin smtpd`")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not (1 <= args.users <= 10000 and 1 <= args.logins <= 50000 and 1 <= args.messages <= 20000
            and 1 <= args.concurrency <= 32 and 1 <= args.workers <= 16):
        raise SystemExit("out of bounds: users <= 10000, logins <= 50000, messages <= 20000, concurrency <= 32, "
                         "workers <= 16")
    if args.in_process and args.workers != 1:
        raise SystemExit("--in-process runs one service on a thread: --workers 1 only")
    load_before = os.getloadavg()
    (ROOT / "var").mkdir(exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="bench-smtp-", dir=ROOT / "var"))
    settings = load_settings({**os.environ, "MAILADMIN_STATE_DIR": str(state),
                              "MAILADMIN_SLAPD_PORT": str(free_port())})
    slapd = PrivateSlapd(settings)
    slapd.start()
    try:
        results = run(args, settings, state)
    finally:
        slapd.stop()
        shutil.rmtree(state, ignore_errors=True)
    report(args, results, load_before)


@contextmanager
def smtpd_process(settings: Settings, state: Path, concurrency: int,
                  workers: int) -> Iterator[tuple[Listening, Path, list[int]]]:
    """`python -m mailadmin smtpd` in its own process(es), as deployed; stopped by SIGTERM to its PID."""
    ports = Listening(free_port(), free_port())
    spool = state / "mail"
    environ = {**os.environ, "MAILADMIN_STATE_DIR": str(state), "MAILADMIN_SLAPD_PORT": str(settings.slapd.port),
               "MAILADMIN_SMTP_PORT": str(ports.port), "MAILADMIN_SMTP_SUBMISSION_PORT": str(ports.submission_port),
               "MAILADMIN_SMTP_SPOOL_DIR": str(spool), "MAILADMIN_SMTP_PLAINTEXT_AUTH_ON_LOOPBACK": "1",
               "MAILADMIN_SMTP_MAX_CONNECTIONS_PER_CLIENT": str(concurrency + 8),
               "MAILADMIN_SMTP_WORKERS": str(workers)}
    process = subprocess.Popen([sys.executable, "-m", "mailadmin", "smtpd"], env=environ, cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        # The last line printed once every worker listens (the parent prints it after all are ready).
        last = "Workers:" if workers > 1 else "Maildirs:"
        if not any(line.startswith(last) for line in process.stdout):
            raise SystemExit("mailadmin smtpd did not start")
        yield ports, spool, [process.pid, *children(process.pid)]
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def smtpd_thread(settings: Settings, state: Path) -> Iterator[tuple[Listening, Path, list[int]]]:
    """The service on an event loop thread of this process (--in-process: shares our GIL)."""
    config = replace(smtp_config(settings), port=0, submission_port=0, spool=state / "mail",
                     plaintext_auth_on_loopback=True)
    routing = mail_routing(settings)
    thread = ServiceThread(SmtpService(config, routing))
    try:
        yield thread.start(), config.spool, []
    finally:
        thread.stop()
        routing.close()


def run(args: argparse.Namespace, settings: Settings, state: Path) -> dict[str, Rate]:
    services = Services(settings)
    initialise(services)
    slapd_pid = int(SlapdPaths.of(settings).pid.read_text().split()[0])
    users = make_users(services, args.users, args.scheme)
    bare_client = DirectoryClient(services.client.config)
    kept = BindChecker(services.client.config, size=args.concurrency)

    def kept_ok(dn: str, password: str) -> bool:
        return kept.check(dn, password) is Bind.OK
    service = (smtpd_thread(settings, state) if args.in_process
               else smtpd_process(settings, state, args.concurrency, args.workers))
    results: dict[str, Rate] = {}
    try:
        with service as (ports, spool, smtpd_pids):
            warm = min(50, args.logins)
            timed("warm-up", warm, args.concurrency, bare_bind(kept_ok, users))
            timed("warm-up", warm, args.concurrency, smtp_auth(ports.submission_port, users, tls=True))
            for name, attempt in (("bare bind new", bare_bind(bare_client.check_password, users)),
                                  ("bare bind kept", bare_bind(kept_ok, users)),
                                  ("AUTH plain", smtp_auth(ports.submission_port, users, tls=False)),
                                  ("AUTH TLS", smtp_auth(ports.submission_port, users, tls=True))):
                slapd_before, smtpd_before = cpu_seconds([slapd_pid]), cpu_seconds(smtpd_pids)
                client_before = time.process_time()
                rate = timed(name, args.logins, args.concurrency, attempt)
                rate.client_cpu_ms = (time.process_time() - client_before) * 1000 / rate.count
                rate.slapd_cpu_ms = (cpu_seconds([slapd_pid]) - slapd_before) * 1000 / rate.count
                if smtpd_pids and name.startswith("AUTH"):
                    rate.smtpd_cpu_ms = (cpu_seconds(smtpd_pids) - smtpd_before) * 1000 / rate.count
                results[name] = rate
            results["smtp delivery"] = deliveries(ports.port, users, args.messages, args.size, args.concurrency,
                                                  settings.organisation.mail_domain)
            found = delivered(spool, users)
            if found != args.messages:
                raise SystemExit(f"expected {args.messages} messages in the Maildirs, found {found}")
        results["bare maildir"] = bare_maildir(state / "bare", args.messages, args.size, args.concurrency)
    finally:
        bare_client.close()
        kept.close()
        services.close()
    return results


def report(args: argparse.Namespace, results: dict[str, Rate], load_before: tuple[float, float, float]) -> None:
    bind = max(results["bare bind new"].per_second, results["bare bind kept"].per_second)
    ratios = {"AUTH plain / best bare bind": results["AUTH plain"].per_second / bind,
              "AUTH TLS / best bare bind": results["AUTH TLS"].per_second / bind,
              "smtp delivery / bare maildir": results["smtp delivery"].per_second
              / results["bare maildir"].per_second}
    if args.json:
        print(json.dumps({"args": vars(args), "load_before": load_before, "load_after": os.getloadavg(),
                          "threads": threading.active_count(),
                          "results": {k: {**asdict(v), "per_second": v.per_second} for k, v in results.items()},
                          "ratios": ratios}, indent=2))
        return
    print(f"# {platform.node()} load before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"users {args.users} ({args.scheme}), concurrency {args.concurrency}, "
          f"{'in-process' if args.in_process else f'smtpd workers {args.workers}'}")
    for rate in results.values():
        cpu = "".join(f"  {who} {ms:.2f}" for who, ms in (("slapd", rate.slapd_cpu_ms), ("smtpd", rate.smtpd_cpu_ms),
                                                         ("client", rate.client_cpu_ms)) if ms is not None)
        cpu = f"  ms CPU/op:{cpu}" if cpu else ""
        print(f"{rate.name:15} {rate.count:6d} in {rate.seconds:7.2f} s = {rate.per_second:8.1f} /s{cpu}")
    for name, value in ratios.items():
        print(f"{name:30} {value:.2f}")
    print("target: AUTH >= 0.80 x bare bind")


if __name__ == "__main__":
    main()
