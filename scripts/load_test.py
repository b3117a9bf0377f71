"""Load test: web sessions, SMTP AUTH and an import against two replicated peers, one killed mid-run.

Loopback only and bounded. Two private slapd peers (A with the unit tree, B joined with A's secrets)
in a temporary folder; `mailadmin serve` and `mailadmin smtpd` on A's state folder (clients: A first,
then B). For --seconds: --sessions web sessions (each a super admin, logged in through the form)
browse the dashboard, a search page and the API list, and edit through the API (create a mailbox,
suspend / resume their own); --auth-rate SMTP AUTH logins per second; one `mailadmin import` of
--import-rows rows. At --kill-at A's slapd is SIGKILLed, --down seconds later started again.

Afterwards: both peers caught up (contextCSN equal, same entries and checksum), every write that
was answered OK is there exactly once on both, nothing is duplicated. Prints p50/p95/p99 per
operation and every error (with its time and whether it fell inside the kill window). Everything
started here is stopped by its PID; the temporary folder is removed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailadmin.directory.client import DirectoryClient, DirectoryConfig  # noqa: E402
from mailadmin.directory.replication import read_context_csn  # noqa: E402
from mailadmin.importer.columns import header_labels  # noqa: E402
from mailadmin.model import Role  # noqa: E402
from mailadmin.services.mailboxes import NewMailbox  # noqa: E402
from mailadmin.services.setup import initialise  # noqa: E402
from mailadmin.settings import Settings, load_settings  # noqa: E402
from mailadmin.slapd import PrivateSlapd  # noqa: E402
from mailadmin.wiring import Services  # noqa: E402

PASSWORD = "Song-Ba-ra-bien-2026"
UNIT = "SYT"
GIVEN = ["An", "Bình", "Cúc", "Dung", "Giang", "Hà", "Hương", "Lan", "Mai", "Nga", "Oanh", "Phương"]


@dataclass
class Sample:
    """One operation: what, when (seconds since the start), how long, and its error if any."""

    op: str
    at: float
    seconds: float
    error: str = ""


@dataclass
class Run:
    """Everything measured and every write answered OK."""

    started: float = field(default_factory=time.monotonic)
    samples: list[Sample] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # HR ids of mailboxes created with 201
    attempted: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # uid -> status after its last answered change
    doubtful: set[str] = field(default_factory=set)  # uids whose last change got no answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, op: str, action: Callable[[], object]) -> object:
        """Run and record one operation; its error is recorded, not raised."""
        begin = time.monotonic()
        try:
            result = action()
            error = ""
        except Exception as exc:  # every failure is reported, none stops the run
            result, error = None, f"{type(exc).__name__}: {exc}"[:200]
        with self.lock:
            self.samples.append(Sample(op, begin - self.started, time.monotonic() - begin, error))
        return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peer_environ(state: Path, port: int, server_id: int, peers: str) -> dict[str, str]:
    """MAILADMIN_* variables of one peer's state folder."""
    return {"MAILADMIN_STATE_DIR": str(state), "MAILADMIN_SLAPD_PORT": str(port),
            "MAILADMIN_SLAPD_SERVER_ID": str(server_id), "MAILADMIN_SLAPD_PEERS": peers,
            "MAILADMIN_LDAP_RECEIVE_TIMEOUT": "3", "MAILADMIN_LDAP_CONNECT_TIMEOUT": "1",
            "MAILADMIN_AUTH_SECOND_FACTOR_ROLES": "", "MAILADMIN_PASSWORDS_ARGON2_MEMORY_KIB": "8192",
            "MAILADMIN_PASSWORDS_ARGON2_TIME_COST": "1"}


def start_peers(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """A (units loaded) and B (joined with A's secrets); their environments."""
    ports = free_port(), free_port()
    peers = ",".join(f"ldap://127.0.0.1:{port}" for port in ports)
    env_a, env_b = (peer_environ(root / name, port, number, peers)
                    for name, port, number in (("a", ports[0], 1), ("b", ports[1], 2)))
    PrivateSlapd(load_settings(env_a)).start()
    with closing(Services(load_settings(env_a))) as services:
        initialise(services)
    shutil.copytree(root / "a" / "secrets", root / "b" / "secrets")
    PrivateSlapd(load_settings(env_b)).start()
    wait_caught_up(load_settings(env_a), load_settings(env_b), 60)
    return env_a, env_b


@contextmanager
def closing(services: Services) -> Iterator[Services]:
    try:
        yield services
    finally:
        services.close()


def make_admins(services: Services, count: int) -> list[tuple[str, str, str]]:
    """Super admins with a known password and an API token each: (uid, token, own mailbox uid)."""
    admins = []
    for number in range(count):
        uid = add_person(services, f"Quản Trị {GIVEN[number % len(GIVEN)]}", f"LOADA-{number}")
        dn = services.mailboxes.store.find_entry(uid).dn
        services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
        target = add_person(services, f"Nhân Viên {GIVEN[number % len(GIVEN)]}", f"LOADT-{number}")
        admins.append((uid, services.tokens.issue(uid), target))
    return admins


def add_person(services: Services, name: str, hr_id: str) -> str:
    uid = services.mailboxes.add(NewMailbox(full_name=name, unit_code=UNIT, hr_id=hr_id,
                                            password=PASSWORD)).mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    return uid


class WebSession:
    """One person's browser (cookies, CSRF) and their API token."""

    def __init__(self, base: str, uid: str, token: str, target: str, run: Run, number: int) -> None:
        self.base, self.uid, self.token, self.target, self.run, self.number = base, uid, token, target, run, number
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.created = 0

    def get(self, path: str) -> bytes:
        with self.opener.open(self.base + path, timeout=30) as response:
            return bytes(response.read())

    def login(self) -> None:
        page = self.get("/login").decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        data = urllib.parse.urlencode({"username": self.uid, "password": PASSWORD,
                                       "csrf_token": token.group(1) if token else ""}).encode()
        with self.opener.open(self.base + "/login", data=data, timeout=30) as response:
            if "/login" in response.url:
                raise RuntimeError("login refused")

    def api(self, method: str, path: str, body: dict[str, str] | None = None) -> dict[str, object]:
        request = urllib.request.Request(self.base + "/api/v1" + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    def step(self, round_number: int) -> None:
        """One round: browse three pages, then one edit."""
        self.run.timed("web dashboard", lambda: self.get("/"))
        self.run.timed("web search", lambda: self.get("/mailboxes?q=" + urllib.parse.quote(GIVEN[round_number % 12])))
        self.run.timed("api list", lambda: self.api("GET", f"/mailboxes?unit={UNIT}&limit=50"))
        if round_number % 2:
            self.toggle(round_number)
        else:
            self.create()

    def toggle(self, round_number: int) -> None:
        action, status = ("suspend", "suspended") if round_number % 4 == 1 else ("resume", "active")
        ok = self.run.timed("api suspend/resume", lambda: self.api("POST", f"/mailboxes/{self.target}/{action}"))
        with self.run.lock:
            if ok is not None:
                self.run.status[self.target] = status
                self.run.doubtful.discard(self.target)
            else:
                self.run.doubtful.add(self.target)

    def create(self) -> None:
        hr_id = f"LOADW-{self.number}-{self.created}"
        self.created += 1
        # A middle name per session: concurrent creates of one name would race for one address.
        name = f"Trương {GIVEN[self.number % len(GIVEN)]} {GIVEN[self.created % len(GIVEN)]}"
        with self.run.lock:
            self.run.attempted.append(hr_id)
        ok = self.run.timed("api create", lambda: self.api("POST", "/mailboxes",
                                                           {"full_name": name, "unit": UNIT, "hr_id": hr_id}))
        if ok is not None:
            with self.run.lock:
                self.run.created.append(hr_id)


def browse(session: WebSession, until: float) -> None:
    session.run.timed("web login", session.login)
    round_number = 0
    while time.monotonic() < until:
        session.step(round_number)
        round_number += 1


def smtp_auth(port: int, users: list[str], run: Run, rate: float, until: float) -> None:
    """`rate` AUTH logins per second (each on its own connection and thread)."""
    threads = []
    while time.monotonic() < until:
        user = random.choice(users)
        thread = threading.Thread(target=run.timed, args=("smtp auth", lambda u=user: auth_once(port, u)))
        thread.start()
        threads.append(thread)
        time.sleep(1 / rate)
    for thread in threads:
        thread.join()


def auth_once(port: int, uid: str) -> None:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the service's own test certificate
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=context)
        code, _ = client.login(uid, PASSWORD)
        if code != 235:
            raise RuntimeError(f"AUTH {code}")


def child(args: list[str], environ: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mailadmin", *args], env={**os.environ, **environ}, cwd=ROOT,
                            text=True, **kwargs)  # type: ignore[call-overload]


def wait_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def import_file(path: Path, rows: int) -> None:
    lines = [",".join(header_labels()[:4])]
    lines += [f"LOADI-{n},Hồ Thị {GIVEN[n % len(GIVEN)]},{UNIT},Văn thư" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_import(source: Path, environ: dict[str, str], run: Run) -> None:
    def apply() -> None:
        process = child(["import", str(source)], environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, stderr = process.communicate(timeout=600)
        if process.returncode != 0:
            raise RuntimeError(f"exit {process.returncode}: {stderr.strip().splitlines()[-1:]}")
    run.timed("import", apply)


def kill_and_restart(env_a: dict[str, str], run: Run, kill_at: float, down: float) -> tuple[float, float]:
    """SIGKILL A's slapd at kill_at, start it again `down` seconds later; the window in run time."""
    time.sleep(max(0.0, run.started + kill_at - time.monotonic()))
    slapd = PrivateSlapd(load_settings(env_a))
    pid = slapd.running_pid()
    killed = time.monotonic() - run.started
    if pid:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    time.sleep(down)
    slapd.start()
    return killed, time.monotonic() - run.started


def only(settings: Settings) -> DirectoryClient:
    config = Services(settings).client.config
    return DirectoryClient(DirectoryConfig((PrivateSlapd(settings).uri,), config.base_dn, config.bind_dn,
                                           config.password, kept_lists=0))


def digest(settings: Settings) -> tuple[tuple[str, ...] | None, int, str]:
    """contextCSN, entry count and a checksum of every entry, as this peer holds them."""
    client = only(settings)
    try:
        entries = client.search(client.base_dn, "(objectClass=*)")
        config = client.config
        csn = read_context_csn(config.uris[0], config.bind_dn, config.password, config.base_dn)
    finally:
        client.close()
    lines = sorted(f"{e.dn.lower()}|{k}|{v!r}" for e in entries for k, vs in e.attributes.items() for v in vs)
    return csn, len(entries), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def wait_caught_up(first: Settings, second: Settings, seconds: float) -> float:
    """Until both peers hold the same tree; how long that took."""
    begin = time.monotonic()
    while time.monotonic() - begin < seconds:
        if digest(first) == digest(second):
            return time.monotonic() - begin
        time.sleep(0.5)
    raise SystemExit("the peers did not converge")


def hr_counts(settings: Settings, prefix: str) -> dict[str, int]:
    client = only(settings)
    try:
        entries = client.search(client.base_dn, f"(employeeNumber={prefix}*)", attributes=["employeeNumber"])
    finally:
        client.close()
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.text("employeeNumber")] = counts.get(entry.text("employeeNumber"), 0) + 1
    return counts


def statuses(settings: Settings, uids: list[str]) -> dict[str, str]:
    client = only(settings)
    try:
        return {uid: client.search(client.base_dn, f"(uid={uid})", attributes=["maAccountStatus"])[0]
                .text("maAccountStatus") for uid in uids}
    finally:
        client.close()


def check_writes(run: Run, peers: tuple[Settings, Settings], rows: int) -> list[str]:
    """Lost or duplicated writes on either peer (empty: none)."""
    problems = []
    for settings in peers:
        name = PrivateSlapd(settings).uri
        made = hr_counts(settings, "LOADW-")
        problems += [f"{name}: {hr} lost" for hr in run.created if made.get(hr) != 1]
        problems += [f"{name}: {hr} x{n}" for hr, n in made.items() if n > 1 or hr not in run.attempted]
        imported = hr_counts(settings, "LOADI-")
        problems += [f"{name}: import has {len(imported)} of {rows} rows"] if len(imported) != rows else []
        problems += [f"{name}: {hr} x{n}" for hr, n in imported.items() if n > 1]
        now = statuses(settings, [uid for uid in run.status if uid not in run.doubtful])
        problems += [f"{name}: {uid} {now[uid]} != {run.status[uid]}" for uid in now if now[uid] != run.status[uid]]
    return problems


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def in_window(sample: Sample, window: tuple[float, float]) -> bool:
    """Whether the operation ran at any moment from the kill to 5 s after the restart."""
    return sample.at + sample.seconds >= window[0] and sample.at <= window[1] + 5


def report(run: Run, window: tuple[float, float], problems: list[str], converge: float) -> dict[str, object]:
    ops: dict[str, list[Sample]] = {}
    for sample in run.samples:
        ops.setdefault(sample.op, []).append(sample)
    rows = {op: {"count": len(s), "errors": sum(1 for x in s if x.error),
                 "p50_ms": statistics.median(x.seconds for x in s) * 1000,
                 "p95_ms": percentile([x.seconds for x in s], 0.95) * 1000,
                 "p99_ms": percentile([x.seconds for x in s], 0.99) * 1000} for op, s in sorted(ops.items())}
    errors = [{"op": s.op, "at": round(s.at, 2), "in_kill_window": in_window(s, window), "error": s.error}
              for s in run.samples if s.error]
    return {"operations": rows, "errors": errors, "kill_window_s": [round(w, 2) for w in window],
            "lost_or_duplicated": problems, "converged_after_s": round(converge, 2),
            "created": len(run.created), "toggled": len(run.status)}


def print_report(result: dict[str, object]) -> None:
    print(f"{'operation':<20}{'count':>7}{'errors':>8}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for op, row in result["operations"].items():  # type: ignore[attr-defined]
        print(f"{op:<20}{row['count']:>7}{row['errors']:>8}{row['p50_ms']:>10.1f}{row['p95_ms']:>10.1f}"
              f"{row['p99_ms']:>10.1f}")
    print(f"kill window (s since start): {result['kill_window_s']}; peers converged "
          f"{result['converged_after_s']} s after the end")
    for error in result["errors"]:  # type: ignore[attr-defined]
        print(f"error at {error['at']} s ({'in' if error['in_kill_window'] else 'OUTSIDE'} the kill window): "
              f"{error['op']}: {error['error']}")
    print(f"lost or duplicated writes: {len(result['lost_or_duplicated'])}")  # type: ignore[arg-type]
    for problem in result["lost_or_duplicated"]:  # type: ignore[attr-defined]
        print("  " + problem)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=4, help="concurrent web sessions (N)")
    parser.add_argument("--auth-rate", type=float, default=5.0, help="SMTP AUTH logins per second (M)")
    parser.add_argument("--import-rows", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--kill-at", type=float, default=20.0, help="seconds after the start")
    parser.add_argument("--down", type=float, default=10.0, help="seconds A stays down")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    if not 1 <= args.sessions <= len(GIVEN) or not 0 < args.auth_rate <= 50 or not 10 <= args.seconds <= 600:
        raise SystemExit(f"bounded: 1-{len(GIVEN)} sessions, 0-50 AUTH/s, 10-600 s")
    root = Path(tempfile.mkdtemp(prefix="mailadmin-load-"))
    processes: list[subprocess.Popen[str]] = []
    env_a: dict[str, str] = {}
    env_b: dict[str, str] = {}
    try:
        env_a, env_b = start_peers(root)
        result = load(args, root, env_a, processes)
        result["converged_after_s"] = round(wait_caught_up(load_settings(env_a), load_settings(env_b), 120), 2)
        problems = check_writes(RUN, (load_settings(env_a), load_settings(env_b)), args.import_rows)
        result["lost_or_duplicated"] = problems
        print(json.dumps(result, ensure_ascii=False, indent=1)) if args.json else print_report(result)
    finally:
        stop(processes, [env for env in (env_a, env_b) if env])
        shutil.rmtree(root, ignore_errors=True)


RUN = Run()


def load(args: argparse.Namespace, root: Path, env_a: dict[str, str],
         processes: list[subprocess.Popen[str]]) -> dict[str, object]:
    """Start web and smtpd on A's folder, run everything for --seconds, return the report (writes unchecked)."""
    with closing(Services(load_settings(env_a))) as services:
        admins = make_admins(services, args.sessions)
        users = [add_person(services, f"Lê Văn {GIVEN[n % len(GIVEN)]}", f"LOADS-{n}") for n in range(20)]
    web_port, smtp_port, submission = free_port(), free_port(), free_port()
    processes.append(child(["serve", "--port", str(web_port), "--threads", "8"], env_a, stderr=subprocess.DEVNULL))
    processes.append(child(["smtpd"], {**env_a, "MAILADMIN_SMTP_PORT": str(smtp_port),
                                       "MAILADMIN_SMTP_SUBMISSION_PORT": str(submission),
                                       "MAILADMIN_SMTP_PLAINTEXT_AUTH_ON_LOOPBACK": "1",
                                       "MAILADMIN_SMTP_MAX_CONNECTIONS_PER_CLIENT": "200"},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_port(web_port, processes[0])
    wait_port(smtp_port, processes[1])
    import_file(root / "staff.csv", args.import_rows)
    RUN.started = time.monotonic()
    until = RUN.started + args.seconds
    workers = [threading.Thread(target=browse, args=(WebSession(f"http://127.0.0.1:{web_port}", uid, token,
                                                                target, RUN, n), until))
               for n, (uid, token, target) in enumerate(admins)]
    workers.append(threading.Thread(target=smtp_auth, args=(submission, users, RUN, args.auth_rate, until)))
    workers.append(threading.Thread(target=run_import, args=(root / "staff.csv", env_a, RUN)))
    for worker in workers:
        worker.start()
    window = kill_and_restart(env_a, RUN, args.kill_at, args.down)
    for worker in workers:
        worker.join()
    return report(RUN, window, [], 0.0)


def stop(processes: list[subprocess.Popen[str]], environs: list[dict[str, str]]) -> None:
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    for environ in environs:
        PrivateSlapd(load_settings(environ)).stop()


if __name__ == "__main__":
    main()
