"""Benchmark: `mailadmin import` of the demo staff file against `ldapadd` of the same entries as LDIF.

Targets: at 6,888 rows at most 1.25x the time of ldapadd (durable database, initial passwords
included); 100,000 rows in at most 300 MB peak RSS of the importing process.

Method. The demo staff (services/demo.py's generator, scaled with --count like
scripts/bench_seed) is written as a CSV import file: HR id, full name, unit, title, phone.
Each side gets a brand-new private slapd (durable mdb unless --no-sync), initialised by
`mailadmin directory init` before any timer starts (bench_seed's helpers, reused).

1. ldapadd: the file is planned by our own pipeline on that directory (untimed) and every
   create becomes an LDIF record with exactly what our apply writes: the same attributes,
   an {SSHA512} hash of a fresh random password and pwdReset TRUE. Timed: `ldapadd -x -H URI
   -D SERVICE_DN -y PASSWORD_FILE -f FILE`.
2. ours: on a new slapd, a fresh Python process times what `mailadmin import FILE` does
   after reading the file: parse, snapshot of the directory, validate, plan, journal,
   passwords, apply, the 0600 results file. Its peak RSS is that process's ru_maxrss.
--skip-ldapadd runs only our side (for the memory figure at 100,000 rows).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

from bench_seed import (
    BenchError,
    Run,
    check_count,
    fresh_directory,
    run_child,
    scaled_counts,
    slapd_version,
    time_ldapadd,
)

from mailadmin.directory.ldif import write_ldif
from mailadmin.directory.mapping import mailbox_attributes
from mailadmin.importer.columns import header_labels
from mailadmin.importer.plan import Outcome
from mailadmin.passwords import generate_password, hash_generated
from mailadmin.resources import project_root
from mailadmin.services import demo
from mailadmin.services.units import load_units_file
from mailadmin.settings import load_settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.wiring import Services

DEMO_ROWS = sum(demo.DEMO_COUNTS.values())
TARGET_RATIO = 1.25
TARGET_TXN_RATIO = 1.5  # against slapd's own speed with the same atomicity (issue #17)
TARGET_RSS_MIB = 300 * 1000 * 1000 / 2**20


def write_staff_file(path: Path, settings_units_file: Path, seed: int) -> int:
    """The demo staff as an import CSV (UTF-8 BOM, as Excel writes it); returns the row count."""
    requests = demo.demo_requests(load_units_file(settings_units_file), seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header_labels()[:5])
    writer.writerows([r.hr_id, r.full_name, r.unit_code, r.title, r.phone] for r in requests)
    path.write_bytes(("\ufeff" + buffer.getvalue()).encode("utf-8"))
    return len(requests)


def write_import_ldif(services: Services, staff: Path, ldif: Path) -> int:
    """What our apply would create, as LDIF (planned by our pipeline, untimed)."""
    preview = services.imports.preview(staff.read_bytes(), staff.name)
    creates = [a.after for a in preview.plan.actions if a.outcome is Outcome.CREATE and a.after]
    if len(creates) != len(preview.plan.actions):
        raise BenchError(f"plan: {preview.plan.counts()}")
    paths = {code: unit.path for code, unit in services.units.index().units.items()}
    store = services.mailboxes.store
    with ldif.open("w", encoding="utf-8") as out:
        for mailbox in creates:
            attributes = {**mailbox_attributes(mailbox), "userPassword": [hash_generated(generate_password())],
                          "pwdReset": ["TRUE"]}
            out.writelines(write_ldif([(store.dn_of(mailbox, paths[mailbox.unit_code]), attributes)]))
    return len(creates)


def bench_ldapadd(slapd: PrivateSlapd, services: Services, staff: Path, work: Path, *,
                  transaction: bool = False) -> Run:
    ldif = work / "import.ldif"
    entries = write_import_ldif(services, staff, ldif)
    return time_ldapadd(slapd, services, ldif, entries, transaction=transaction)


def bench_import(slapd: PrivateSlapd, services: Services, staff: Path, rows: int) -> Run:
    output = run_child([sys.executable, __file__, "--import-worker", str(staff)], services.settings, "import worker")
    measured = json.loads(output.strip().splitlines()[-1])
    check_count(slapd, services, rows, "import")
    return Run("import", rows, measured["seconds"], measured["peak_rss_mib"])


def import_worker(staff: Path) -> None:
    """In the child: time the import pipeline on the directory the environment names; print JSON."""
    services = Services(load_settings())
    data = staff.read_bytes()
    report = staff.with_name(f"results-{os.getpid()}.csv")
    started = time.perf_counter()
    preview = services.imports.preview(data, staff.name)
    job = services.imports.start(preview)
    del preview  # as the CLI does
    summary = services.imports.apply(job, report=report)
    seconds = time.perf_counter() - started
    if summary["failed"] or summary["errors"]:
        raise BenchError(f"import: {summary['counts']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, "counts": summary["counts"]}))
    os._exit(0)  # do not wait for ldap3's receiver threads (see bench_seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=DEMO_ROWS, help=f"rows (default {DEMO_ROWS})")
    parser.add_argument("--no-sync", action="store_true", help="slapd with dbnosync (no fsync per write)")
    parser.add_argument("--skip-ldapadd", action="store_true", help="only our import (memory figure)")
    parser.add_argument("--dir", type=Path, default=project_root() / "var", help="parent of the temporary folders")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--import-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_worker:
        import_worker(args.import_worker)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-import-", dir=args.dir))
    load_before = os.getloadavg()
    runs: list[Run] = []
    try:
        settings = load_settings()
        staff = work / "staff.csv"
        with mock.patch.dict(demo.DEMO_COUNTS, scaled_counts(args.count)):
            rows = write_staff_file(staff, settings.resolve(settings.organisation.units_file), settings.demo.seed)
        if not args.skip_ldapadd:
            with fresh_directory(work / "ldapadd", args.no_sync) as directory:
                runs.append(bench_ldapadd(*directory, staff, work))
            with fresh_directory(work / "ldapadd-txn", args.no_sync) as directory:
                runs.append(bench_ldapadd(*directory, staff, work, transaction=True))
        with fresh_directory(work / "import", args.no_sync) as directory:
            runs.append(bench_import(*directory, staff, rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(args, rows, runs, load_before)
    return 0


def report(args: argparse.Namespace, rows: int, runs: list[Run], load_before: tuple[float, ...]) -> None:
    by_method = {run.method: run for run in runs}
    ours = by_method["import"]
    ratio = ours.seconds / by_method["ldapadd"].seconds if "ldapadd" in by_method else None
    txn_ratio = ours.seconds / by_method["ldapadd-txn"].seconds if "ldapadd-txn" in by_method else None
    result = {"rows": rows, "durable": not args.no_sync, "slapd": slapd_version(),
              "load_before": round(load_before[0], 2), "load_after": round(os.getloadavg()[0], 2),
              "runs": [{"method": r.method, "entries": r.entries, "seconds": round(r.seconds, 2),
                        "per_second": round(r.rate), "peak_rss_mib": r.peak_rss_mib and round(r.peak_rss_mib)}
                       for r in runs],
              "ratio": ratio and round(ratio, 3), "target_ratio": TARGET_RATIO,
              "ratio_txn": txn_ratio and round(txn_ratio, 3), "target_ratio_txn": TARGET_TXN_RATIO,
              "peak_rss_mib": round(ours.peak_rss_mib or 0), "target_rss_mib": round(TARGET_RSS_MIB)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{rows} rows, {'durable' if not args.no_sync else 'dbnosync'}; {result['slapd']}; "
          f"load {result['load_before']} before, {result['load_after']} after")
    for run in result["runs"]:
        rss = f"{run['peak_rss_mib']} MiB" if run["peak_rss_mib"] else "-"
        print(f"{run['method']:<10}{run['entries']:>9}{run['seconds']:>9.2f} s{run['per_second']:>8}/s{rss:>12}")
    if ratio is not None:
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        print(f"ratio import/ldapadd: {ratio:.2f} (target <= {TARGET_RATIO}: {verdict})")
    if txn_ratio is not None:
        verdict = "met" if txn_ratio <= TARGET_TXN_RATIO else "MISSED"
        print(f"ratio import/ldapadd -E txn=commit: {txn_ratio:.2f} (target <= {TARGET_TXN_RATIO}: {verdict})")
    print(f"peak RSS of the import: {result['peak_rss_mib']} MiB (target <= {result['target_rss_mib']} MiB = 300 MB)")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench_import: {exc}", file=sys.stderr)
        sys.exit(1)
