"""Benchmark: `mailadmin demo seed` against `ldapadd` (plain and `-E txn=commit`) of the same entries as LDIF.

Acceptance criteria: the demo seed of 6,888 mailboxes takes at most 2x the time of `ldapadd`, and
at most 1.5x the time of `ldapadd -E txn=commit` of the same LDIF (issue #17).

Method. Each run gets a brand-new private slapd (own state folder below var/ unless --dir says
otherwise, free loopback port, durable mdb unless --no-sync), started by this process and
initialised by `python -m mailadmin directory init` (password policy + unit tree) BEFORE any
timer starts: unit loading is in neither figure.

1. ldapadd: the entries `seed_demo` would write are built with the service's own code
   (demo_requests minus the one the admin replaces, the admin first, MailboxService.prepare
   with a bulk allocator, mailbox_attributes, the same hashes: argon2id for the admin,
   {SSHA512} for the others) into one LDIF file (not timed). Timed: `ldapadd -x -H URI -D
   SERVICE_DN -y PASSWORD_FILE -f FILE`, bound as the service account our seed uses. It must
   exit 0 and the mailboxes are counted afterwards.
2. ldapadd -E txn=commit: the same LDIF, built the same way on another fresh slapd, sent by
   `ldapadd ... -E txn=commit`: every add in ONE RFC 5805 transaction (slapd 2.5 holds all 6,888
   queued adds and writes them in one mdb transaction, one fsync, at the TxnEnd), what slapd
   can do with the atomicity the seed's batches have. Counted afterwards as well.
3. ours: that slapd is stopped and wiped. On a new one, a fresh Python process (like the CLI:
   see "Worker process" below) times `seed_demo(services, admin_password)`, what `mailadmin demo
   seed` runs minus the progress bar: reading units.yaml, a no-op unit re-check (also timed
   apart and printed), the admin (argon2id hash, one add, a few modifies), generating, preparing and
   hashing every request, and the bulk adds. Its peak RSS is that process's ru_maxrss.

Worker process: ldap3 2.9.1's ASYNC receiver thread spins at 100 % CPU forever when its socket
is closed before the server's end-of-stream is read (receive_timeout set), which happens at
random after `DirectoryClient.add_many`. Initialising or seeding twice in one process would
leave such threads running during the next timed seed; the CLI never does, so neither do we.

--count N scales the per-tier counts (DEMO_COUNTS) proportionally, by patching that dict in
both processes, so the same demo_requests and seed_demo code runs at any size. --repeat N
alternates N rounds (ldapadd, ldapadd -E txn=commit, seed: the last two next to each other);
the ratios are of the medians, and each round's own seed/txn ratio is printed too, as is the
load average before and after every timed run: other busy processes on the machine shift the
figures, so compare only figures of one round. --no-plain leaves out the plain ldapadd (the
slow side: 15-90 s) for more rounds of the other two. Exits non-zero only on errors (slapd failing,
an add refused, a wrong count), never on a missed target. Every slapd started here is stopped
by its PID (PrivateSlapd.stop).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from unittest import mock

from mailadmin.directory.ldif import write_ldif
from mailadmin.directory.mapping import mailbox_attributes
from mailadmin.model import Tier
from mailadmin.passwords import generate_password, hash_chosen, hash_generated
from mailadmin.resources import project_root
from mailadmin.services import demo
from mailadmin.services.people import spread
from mailadmin.services.units import load_units_file
from mailadmin.settings import Settings, load_settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.wiring import Services

DEFAULT_COUNT = sum(demo.DEMO_COUNTS.values())
TARGET_RATIO = 2.0
TARGET_TXN_RATIO = 1.5  # against slapd's own speed with the same atomicity (issue #17)
IS_MAILBOX = "(objectClass=maMailbox)"


class BenchError(Exception):
    """The measurement is invalid (a failure, not a missed target)."""


@dataclass(frozen=True)
class Run:
    """One timed method."""

    method: str
    entries: int
    seconds: float
    peak_rss_mib: float | None = None  # of the seeding Python process (None for ldapadd)
    load: tuple[float, float] | None = None  # 1-minute load average before and after the timed part
    client_cpu: float | None = None  # CPU seconds of the client (ldapadd, or the seeding Python process)
    server_cpu: float | None = None  # CPU seconds slapd spent meanwhile

    @property
    def rate(self) -> float:
        return self.entries / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used so far (0 if it is gone): proc(5) stat fields 14 and 15."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def scaled_counts(count: int) -> dict[Tier, int]:
    """DEMO_COUNTS scaled to `count` mailboxes, summing exactly (6,888 gives the demo's own)."""
    return dict(zip(demo.DEMO_COUNTS, spread(count, list(demo.DEMO_COUNTS.values())), strict=True))


def child_environment(settings: Settings) -> dict[str, str]:
    """This environment without MAILADMIN_* variables, plus the benchmark directory's."""
    environ = {name: value for name, value in os.environ.items() if not name.startswith("MAILADMIN_")}
    return {**environ, "MAILADMIN_STATE_DIR": str(settings.state_dir),
            "MAILADMIN_SLAPD_PORT": str(settings.slapd.port)}


def run_child(command: list[str], settings: Settings, what: str) -> str:
    result = subprocess.run(command, env=child_environment(settings), capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise BenchError(f"{what} exited {result.returncode}: {(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


@contextmanager
def fresh_directory(state_dir: Path, no_sync: bool) -> Iterator[tuple[PrivateSlapd, Services]]:
    """A new slapd on state_dir, initialised by the CLI; stopped by PID and wiped afterwards."""
    settings = load_settings({"MAILADMIN_STATE_DIR": str(state_dir), "MAILADMIN_SLAPD_PORT": str(free_port())})
    slapd = PrivateSlapd(settings, no_sync=no_sync)
    services = Services(settings)
    try:
        slapd.start()
        run_child([sys.executable, "-m", "mailadmin", "directory", "init"], settings, "mailadmin directory init")
        yield slapd, services
    finally:
        services.close()
        slapd.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


def write_seed_ldif(services: Services, path: Path) -> int:
    """The entries seed_demo would write on this directory, as LDIF; returns how many."""
    settings = services.settings
    mailboxes = services.mailboxes
    requests = demo.demo_requests(load_units_file(settings.resolve(settings.organisation.units_file)),
                                  settings.demo.seed)
    # As seed_demo: the admin is one of the province's mailboxes and goes first.
    requests.pop(next(i for i, r in enumerate(requests) if r.unit_code == demo.ADMIN_UNIT))
    requests.insert(0, demo.admin_request(settings.demo.admin_uid, demo.demo_admin_password(settings)))
    allocator = mailboxes.allocator(bulk=True)
    path_of = {code: unit.path for code, unit in services.units.index().units.items()}
    with path.open("w", encoding="utf-8") as out:
        for request in requests:
            mailbox, password = mailboxes.prepare(request, allocator)
            hashed = hash_chosen(password, settings.passwords) if password \
                else hash_generated(generate_password())
            dn = mailboxes.store.dn_of(mailbox, path_of[mailbox.unit_code])
            out.writelines(write_ldif([(dn, {**mailbox_attributes(mailbox), "userPassword": [hashed]})]))
    return len(requests)


def check_count(slapd: PrivateSlapd, services: Services, expected: int, method: str) -> None:
    if slapd.running_pid() is None:
        raise BenchError(f"{method}: slapd is no longer running (see {slapd.paths.log})")
    found = services.client.count(services.client.base_dn, IS_MAILBOX)
    if found != expected:
        raise BenchError(f"{method}: {found} mailboxes in the directory, expected {expected}")


def bench_ldapadd(slapd: PrivateSlapd, services: Services, work: Path, *, transaction: bool = False) -> Run:
    ldif = work / "seed.ldif"
    return time_ldapadd(slapd, services, ldif, write_seed_ldif(services, ldif), transaction=transaction)


def time_ldapadd(slapd: PrivateSlapd, services: Services, ldif: Path, entries: int, *,
                 transaction: bool = False) -> Run:
    """Time `ldapadd` (with `-E txn=commit`: every add in one RFC 5805 transaction) of an LDIF file bound as
    the service account, then check the mailbox count."""
    status = slapd.status()
    command = ["ldapadd", "-x", "-H", status.uri, "-D", status.bind_dn, "-y", status.password_file,
               *(["-E", "txn=commit"] if transaction else []), "-f", str(ldif)]
    load_before, client_before, server_before = os.getloadavg()[0], children_cpu(), cpu_seconds(status.pid)
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    load = (load_before, os.getloadavg()[0])
    cpu = {"client_cpu": children_cpu() - client_before, "server_cpu": cpu_seconds(status.pid) - server_before}
    ldif.unlink()
    if result.returncode != 0:
        raise BenchError(f"ldapadd exited {result.returncode}: {result.stderr.strip()[-500:]}")
    method = "ldapadd-txn" if transaction else "ldapadd"
    check_count(slapd, services, entries, method)
    return Run(method, entries, seconds, load=load, **cpu)


def bench_seed(slapd: PrivateSlapd, services: Services, count: int) -> tuple[Run, float]:
    """seed_demo timed in a fresh process; also returns its no-op unit re-check time."""
    pid = slapd.running_pid()
    load_before, server_before = os.getloadavg()[0], cpu_seconds(pid)
    output = run_child([sys.executable, __file__, "--seed-worker", "--count", str(count)],
                       services.settings, "seed worker")
    load, server_cpu = (load_before, os.getloadavg()[0]), cpu_seconds(pid) - server_before
    measured = json.loads(output.strip().splitlines()[-1])
    check_count(slapd, services, count, "seed_demo")
    return Run("seed_demo", count, measured["seconds"], measured["peak_rss_mib"], load, measured["cpu"],
               server_cpu), measured["unit_check"]


def seed_worker(count: int) -> None:
    """In the child: time seed_demo on the directory the environment names; print JSON."""
    settings = load_settings()
    services = Services(settings)
    password = demo.demo_admin_password(settings)
    started = time.perf_counter()
    services.units.sync(load_units_file(settings.resolve(settings.organisation.units_file)))
    unit_check = time.perf_counter() - started
    started, cpu_before = time.perf_counter(), time.process_time()
    report = demo.seed_demo(services, password)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    if report.skipped or report.units_created or report.failures or report.mailboxes_created != count:
        raise BenchError(f"seed_demo: {report}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "unit_check": unit_check, "peak_rss_mib": peak}))
    os._exit(0)  # do not wait for ldap3's receiver threads (see the docstring)


def slapd_version() -> str:
    result = subprocess.run(["/usr/sbin/slapd", "-VV"], capture_output=True, text=True, check=False)
    text = (result.stderr or result.stdout).strip().splitlines()
    return text[0].replace("@(#) $OpenLDAP: ", "").rstrip(" $") if text else "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"mailboxes (default {DEFAULT_COUNT})")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of runs; the ratios are of the medians")
    parser.add_argument("--no-plain", action="store_true", help="leave out the plain ldapadd (the slow side)")
    parser.add_argument("--no-sync", action="store_true", help="slapd with dbnosync (no fsync per write)")
    parser.add_argument("--dir", type=Path, default=project_root() / "var",
                        help="parent of the temporary state folders (default: var/, the real state's disk)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--seed-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.count < 2 or args.repeat < 1:
        parser.error("--count must be at least 2 and --repeat at least 1")
    with mock.patch.dict(demo.DEMO_COUNTS, scaled_counts(args.count)):
        if args.seed_worker:
            seed_worker(args.count)
        if shutil.which("ldapadd") is None:
            raise BenchError("ldapadd not found: install the Debian package ldap-utils")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop slapd
        args.dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bench-seed-", dir=args.dir))
        load_before = os.getloadavg()
        runs: list[Run] = []
        unit_checks: list[float] = []
        try:
            for number in range(args.repeat):
                if not args.no_plain:
                    with fresh_directory(work / f"ldapadd-{number}", args.no_sync) as directory:
                        runs.append(bench_ldapadd(*directory, work))
                with fresh_directory(work / f"ldapadd-txn-{number}", args.no_sync) as directory:
                    runs.append(bench_ldapadd(*directory, work, transaction=True))
                with fresh_directory(work / f"seed-{number}", args.no_sync) as directory:
                    run, unit_check = bench_seed(*directory, args.count)
                    runs.append(run)
                    unit_checks.append(unit_check)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report(args, runs, unit_checks, load_before)
    return 0


def medians(runs: list[Run]) -> dict[str, float]:
    """Median seconds of each method that ran."""
    methods = dict.fromkeys(run.method for run in runs)
    return {method: statistics.median(r.seconds for r in runs if r.method == method) for method in methods}


def round_ratios(runs: list[Run], theirs: str) -> list[float]:
    """seed_demo / `theirs` within each round (runs of one round saw the same load)."""
    return [ours.seconds / other.seconds for ours, other in zip(
        (r for r in runs if r.method == "seed_demo"), (r for r in runs if r.method == theirs), strict=True)]


def ratio_fields(median: dict[str, float], theirs: str, target: float) -> dict[str, object]:
    if theirs not in median:
        return {"ratio": None, "target": target, "met": None}
    ratio = median["seed_demo"] / median[theirs]
    return {"ratio": round(ratio, 3), "target": target, "met": ratio <= target}


def run_fields(run: Run) -> dict[str, object]:
    fields = {name: round(value, 3) if isinstance(value, float) else value for name, value in asdict(run).items()}
    return {**fields, "entries_per_second": round(run.rate, 1), "load": run.load and [round(x, 2) for x in run.load]}


def report(args: argparse.Namespace, runs: list[Run], unit_checks: list[float],
           load_before: tuple[float, float, float]) -> None:
    median = medians(runs)
    plain, txn = ratio_fields(median, "ldapadd", TARGET_RATIO), ratio_fields(median, "ldapadd-txn", TARGET_TXN_RATIO)
    result = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "slapd": slapd_version(),
                    "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in os.getloadavg()]},
        "count": args.count, "durable": not args.no_sync, "units_loaded_before_timers": True,
        "seed_unit_recheck_seconds": round(statistics.median(unit_checks), 3),
        "runs": [run_fields(run) for run in runs],
        "median_seconds": {method: round(seconds, 3) for method, seconds in median.items()},
        **plain, "ratio_txn": txn["ratio"], "target_txn": txn["target"], "met_txn": txn["met"],
        "round_ratios_txn": [round(x, 3) for x in round_ratios(runs, "ldapadd-txn")],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print_text(args, runs, result)


def print_text(args: argparse.Namespace, runs: list[Run], result: dict) -> None:
    machine = result["machine"]
    print(f"{args.count} mailboxes, {'durable (fsync per write)' if not args.no_sync else 'dbnosync'}; "
          f"{machine['slapd']}; {machine['cores']} cores; load average {machine['load_before'][0]:.2f} before, "
          f"{machine['load_after'][0]:.2f} after")
    print("units loaded before every timer; seed_demo's own no-op unit re-check "
          f"(inside our time) takes ~{result['seed_unit_recheck_seconds']:.2f} s")
    print("CPU s: of the client (ldapadd, or the seeding Python process with its threads) and of slapd, "
          "in the timed part (slapd's: from the seed process's start)")
    print(f"{'method':<13}{'entries':>8}{'seconds':>9}{'entries/s':>11}{'client CPU s':>14}{'slapd CPU s':>13}"
          f"{'peak RSS (python)':>19}{'load':>14}")
    for run in runs:
        rss = f"{run.peak_rss_mib:.0f} MiB" if run.peak_rss_mib is not None else "-"
        load = f"{run.load[0]:.2f}->{run.load[1]:.2f}" if run.load else "-"
        print(f"{run.method:<13}{run.entries:>8}{run.seconds:>9.2f}{run.rate:>11.0f}{run.client_cpu or 0:>14.2f}"
              f"{run.server_cpu or 0:>13.2f}{rss:>19}{load:>14}")
    medians_note = " (medians)" if args.repeat > 1 else ""
    print_ratio(f"ratio ours/ldapadd{medians_note}", result["ratio"], TARGET_RATIO)
    print_ratio(f"ratio ours/ldapadd -E txn=commit{medians_note}", result["ratio_txn"], TARGET_TXN_RATIO)
    if args.repeat > 1:
        print("ours/ldapadd -E txn=commit by round: " + ", ".join(f"{x:.2f}" for x in result["round_ratios_txn"]))


def print_ratio(label: str, ratio: float | None, target: float) -> None:
    if ratio is not None:
        print(f"{label}: {ratio:.2f} (target <= {target}: {'met' if ratio <= target else 'MISSED'})")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_seed: {exc}", file=sys.stderr)
        sys.exit(1)
