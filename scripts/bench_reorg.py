"""Benchmark: the whole reorganisation (`mailadmin reorg apply` of the shipped plan on the 6,888-mailbox demo)
against `ldapmodify` of the equivalent LDIF (modrdn + modify + add + delete), on the same server in one run.

Target: at most 1.0x the time of ldapmodify (durable database).

Method. One brand-new private slapd (durable mdb unless --no-sync), initialised by `mailadmin
directory init` and seeded with the demo (untimed).
1. ours: a fresh Python process times what `mailadmin reorg apply FILE` does after reading the
   file: read the directory, check and plan, journal, apply every write, audit.
2. `mailadmin reorg undo` puts the directory back (untimed); its LDIF dump must equal the one
   taken before step 1.
3. ldapmodify: the writes journaled by step 1, as LDIF change records in the same order (the
   same DNs, values and renames), timed: `ldapmodify -x -H URI -D SERVICE_DN -y PASSWORD_FILE -f FILE`.
   Both end states are compared (LDIF dump of user attributes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_seed import BenchError, Run, fresh_directory, run_child, slapd_version

from mailadmin.directory.ldif import add_ldif, delete_ldif, modify_ldif, modrdn_ldif
from mailadmin.importer.engine import job_ops
from mailadmin.importer.ops import ADD, DELETE, MODIFY, Op
from mailadmin.resources import project_path, project_root
from mailadmin.services.demo import demo_admin_password, seed_demo
from mailadmin.settings import load_settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.wiring import Services

TARGET_RATIO = 1.0
PLAN = project_path("config", "reorg", "2025-phuyen-daklak.yaml")


def change_record(op: Op) -> str:
    """One journaled write as an LDIF change record."""
    if op.kind == ADD:
        return add_ldif(op.dn, op.after)
    if op.kind == DELETE:
        return delete_ldif(op.dn)
    if op.kind == MODIFY:
        return modify_ldif(op.dn, op.after)
    return modrdn_ldif(op.dn, op.new_rdn, op.new_parent)


def snapshot(services: Services) -> dict[str, Any]:
    """Every entry's user attributes, values sorted (operational ones left out)."""
    entries = services.client.search(services.client.base_dn, "(objectClass=*)", attributes=["*"])
    return {e.dn.lower(): {k: sorted(v) for k, v in e.attributes.items()} for e in entries}


def bench_ours(services: Services) -> tuple[Run, str]:
    output = run_child([sys.executable, __file__, "--reorg-worker", str(PLAN)], services.settings, "reorg worker")
    measured = json.loads(output.strip().splitlines()[-1])
    return Run("reorg", measured["writes"], measured["seconds"], measured["peak_rss_mib"]), measured["job"]


def reorg_worker(plan: Path) -> None:
    """In the child: time the reorganisation on the directory the environment names; print JSON."""
    services = Services(load_settings())
    data = plan.read_bytes()
    started = time.perf_counter()
    job = services.reorg.start(services.reorg.preview(data, plan.name))
    summary = services.reorg.apply(job)
    seconds = time.perf_counter() - started
    if summary["failed_count"]:
        raise BenchError(f"reorg: {summary['failed']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, "job": job.id,
                      "writes": sum(summary["written"].values())}))
    os._exit(0)  # do not wait for ldap3's receiver threads (see bench_seed)


def bench_ldapmodify(slapd: PrivateSlapd, services: Services, job_id: str, work: Path) -> Run:
    ops = job_ops(services.reorg.job(job_id))
    ldif = work / "reorg.ldif"
    with ldif.open("w", encoding="utf-8") as out:
        out.writelines(change_record(op) for op in ops)
    status = slapd.status()
    command = ["ldapmodify", "-x", "-H", status.uri, "-D", status.bind_dn, "-y", status.password_file, "-f", str(ldif)]
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"ldapmodify exited {result.returncode}: {result.stderr.strip()[-500:]}")
    return Run("ldapmodify", len(ops), seconds)


def run(work: Path, no_sync: bool) -> tuple[list[Run], int]:
    with fresh_directory(work / "directory", no_sync) as (slapd, services):
        seed_demo(services, demo_admin_password(services.settings))
        mailboxes = services.client.count(services.client.base_dn, "(objectClass=maMailbox)")
        before = snapshot(services)
        ours, job = bench_ours(services)
        after_ours = snapshot(services)
        services.reorg.undo(job)
        if snapshot(services) != before:
            raise BenchError("reorg undo did not restore the directory")
        theirs = bench_ldapmodify(slapd, services, job, work)
        if snapshot(services) != after_ours:
            raise BenchError("ldapmodify and the reorganisation ended in different directories")
        return [theirs, ours], mailboxes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-sync", action="store_true", help="slapd with dbnosync (no fsync per write)")
    parser.add_argument("--dir", type=Path, default=project_root() / "var", help="parent of the temporary folders")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reorg-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reorg_worker:
        reorg_worker(args.reorg_worker)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-reorg-", dir=args.dir))
    load_before = os.getloadavg()
    try:
        runs, mailboxes = run(work, args.no_sync)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(args, mailboxes, runs, load_before)
    return 0


def report(args: argparse.Namespace, mailboxes: int, runs: list[Run], load_before: tuple[float, ...]) -> None:
    theirs, ours = runs
    ratio = ours.seconds / theirs.seconds
    result = {"mailboxes": mailboxes, "durable": not args.no_sync, "slapd": slapd_version(),
              "load_before": round(load_before[0], 2), "load_after": round(os.getloadavg()[0], 2),
              "runs": [{"method": r.method, "writes": r.entries, "seconds": round(r.seconds, 2),
                        "per_second": round(r.rate)} for r in runs],
              "peak_rss_mib": round(ours.peak_rss_mib or 0), "ratio": round(ratio, 3), "target_ratio": TARGET_RATIO}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{mailboxes} mailboxes, {'durable' if not args.no_sync else 'dbnosync'}; {result['slapd']}; "
          f"load {result['load_before']} before, {result['load_after']} after")
    for item in result["runs"]:
        print(f"{item['method']:<12}{item['writes']:>9} writes{item['seconds']:>9.2f} s{item['per_second']:>8}/s")
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"ratio reorg/ldapmodify: {ratio:.2f} (target <= {TARGET_RATIO}: {verdict}); "
          f"peak RSS {result['peak_rss_mib']} MiB")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_reorg: {exc}", file=sys.stderr)
        sys.exit(1)
