"""Benchmark: the web admin's list and search pages against the bare LDAP query behind each page.

Target: at 100,000 mailboxes, page p95 <= bare query p95 + 15 ms.

Method. For each size (default 6,888 and 100,000) a brand-new private slapd (own temporary state
folder, free loopback port, dbnosync: loading speed is not measured here) is started by this process
and initialised (password policy, unit tree). The mailboxes (synthetic Vietnamese staff spread over
the non-province units, built with MailboxService.prepare and the directory mapping) are loaded with
`slapadd -q` while slapd is stopped (not timed; `ldapadd` took 25 minutes for 100,000 on the loaded
shared machine). A super admin with a known password is added. Then, in one process:

- page: GET of the page through Flask's test client, logged in as that admin (session cookie, CSRF,
  user loader, roles and scopes read from the directory, template rendering of 50 rows);
- bare: the LDAP operations behind the page, DirectoryClient.window() with the same base, filter,
  server-side sort (sssvlv) and virtual-list-view window, through the same client code: a read of
  the directory's change stamp (contextCSN), then the page from the sorted list slapd keeps for
  this query (directory/sorted_views.py); the page and the bare call each keep their own.
- after an own write: the list page right after a write made through the web app's own client (untimed,
  before each page sample: a new mailbox, or a status change of a random one); the kept list takes
  the write in (directory/kept_pages.py) instead of sorting again. Its bare call is the page's LDAP
  query on the same client with no write before it: what the page costs when nothing changed.
- after a write elsewhere: the same list page when another client (another process, a tool) has
  just written (a unit's description), so the kept list is dropped and slapd sorts everything again;
  its bare call is a client that keeps no list (every call sorts).
- dashboard: GET / of the super admin against its ten counts (tier x status and certificate
  holders, each a one-entry VLV window whose total is the count).

Each pair runs --repeat times (default 30, page and bare alternated) after 3 warm-up calls; p50 and
p95 are printed with the difference. Every slapd started here is stopped by its PID; temporary folders are removed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailadmin import create_app
from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.ldif import write_ldif
from mailadmin.directory.mailboxes import IS_MAILBOX, SORT_KEYS, SUMMARY_ATTRIBUTES
from mailadmin.directory.mapping import mailbox_attributes
from mailadmin.model import Role, UnitKind
from mailadmin.names import search_key
from mailadmin.passwords import hash_generated
from mailadmin.services.mailboxes import MailboxQuery, NewMailbox
from mailadmin.services.people import people
from mailadmin.services.setup import initialise
from mailadmin.settings import Settings, load_settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.web import freeze_startup_heap
from mailadmin.wiring import Services

ADMIN_PASSWORD = "Bench-web-2026-mat-khau"
PAGE_SIZE = 50
GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lâm", "Minh", "Ngọc")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load(services: Services, slapd: PrivateSlapd, count: int, workdir: Path) -> tuple[PrivateSlapd, Services]:
    """`count` synthetic mailboxes, added offline by slapadd; the restarted directory and its services."""
    units = [u for u in services.units.index().units.values() if u.kind is not UnitKind.PROVINCE]
    allocator = services.mailboxes.allocator(bulk=True)
    rng = random.Random(54)
    ldif = workdir / "mailboxes.ldif"
    base = services.client.base_dn

    def entries() -> Iterator[tuple[str, dict]]:
        for index, person in enumerate(people(count, rng)):
            unit = units[index % len(units)]
            mailbox, _ = services.mailboxes.prepare(NewMailbox(full_name=person.full_name, unit_code=unit.code,
                                                               hr_id=person.hr_id), allocator)
            attributes = dict(mailbox_attributes(mailbox))
            attributes["userPassword"] = [hash_generated("x" * 16)]
            yield dit.mailbox_dn(mailbox.uid, unit.path, base), attributes
    with open(ldif, "w", encoding="utf-8") as handle:
        handle.writelines(write_ldif(entries()))
    services.close()
    slapd.stop()
    slapadd = Path(services.settings.slapd.binary).with_name("slapadd")
    subprocess.run([str(slapadd), "-q", "-f", str(slapd.write_config()), "-l", str(ldif)], check=True,
                   stdout=subprocess.DEVNULL)
    # On a new port: another program may have taken the old one while slapd was stopped.
    restarted = PrivateSlapd(bench_settings(workdir), no_sync=True)
    restarted.start()
    return restarted, Services(restarted.settings)


def bench_settings(workdir: Path) -> Settings:
    """A private directory in `workdir` on a free port; the super admin logs in with a password only
    (the second factor is not what is measured)."""
    return load_settings({"MAILADMIN_STATE_DIR": str(workdir / "state"), "MAILADMIN_SLAPD_PORT": str(free_port()),
                          "MAILADMIN_AUTH_SECOND_FACTOR_ROLES": ""})


def timed_pair(first: Callable[[], object], second: Callable[[], object], repeat: int,
               before: Callable[[], object] = lambda: None,
               before_second: Callable[[], object] | None = None) -> tuple[list[float], list[float]]:
    """Both calls, alternated sample by sample so that both see the same machine load."""
    for _ in range(3):
        first()
        second()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for call, out, prepare in ((first, samples[0], before), (second, samples[1], before_second or before)):
            prepare()
            start = time.perf_counter()
            call()
            out.append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def bench_size(count: int, repeat: int) -> list[tuple[str, float, float, float, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="mailadmin-bench-web-"))
    slapd = PrivateSlapd(bench_settings(workdir), no_sync=True)
    slapd.start()
    services = Services(slapd.settings)
    try:
        initialise(services)
        slapd, services = load(services, slapd, count, workdir)
        settings = services.settings
        admin = services.mailboxes.add(NewMailbox(full_name="Quản Trị Đo Đạc", unit_code="STTTT",
                                                  password=ADMIN_PASSWORD)).mailbox.uid
        dn = services.mailboxes.store.find_entry(admin).dn
        services.mailboxes.store.clear_password_reset(dn)
        services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
        app = create_app({"TESTING": True}, settings=settings)
        freeze_startup_heap()  # as `mailadmin serve` does
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert client.post("/login", data={"username": admin, "password": ADMIN_PASSWORD,
                                           "csrf_token": token}).status_code == 302
        base = services.client.base_dn
        text = "nguyen van"
        name_filter = filters.any_of(filters.contains("maSearchName", search_key(text)),
                                     filters.prefix("mail", text), filters.eq("uid", text),
                                     filters.eq("employeeNumber", text))
        cases = [
            ("list, page 1", "/mailboxes", filters.all_of(IS_MAILBOX), 0),
            ("list, page 40", "/mailboxes?page=40", filters.all_of(IS_MAILBOX), 39 * PAGE_SIZE),
            ("search 'nguyen van'", "/mailboxes?q=nguyen+van", filters.all_of(IS_MAILBOX, name_filter), 0),
            ("search 'Nguyễn Văn'", "/mailboxes?q=Nguy%E1%BB%85n+V%C4%83n",
             filters.all_of(IS_MAILBOX, name_filter), 0),
        ]
        rows = []
        rss_before = slapd_rss_mib(slapd)
        for label, url, search_filter, offset in cases:
            def page_call(url: str = url) -> None:
                response = client.get(url)
                assert response.status_code == 200, response.status_code

            def bare_call(search_filter: str = search_filter, offset: int = offset) -> None:
                services.client.window(base, search_filter, SORT_KEYS, offset, PAGE_SIZE, SUMMARY_ATTRIBUTES)
            page_ms, bare_ms = timed_pair(page_call, bare_call, repeat)
            rows.append((label, statistics.median(page_ms), p95(page_ms), statistics.median(bare_ms), p95(bare_ms)))
        rows.append(dashboard_row(services, client, repeat))
        rss_kept = slapd_rss_mib(slapd)
        rows.append(own_write_row(app.extensions["mailadmin"], client, base, repeat))
        rows.append(changed_directory_row(services, client, base, repeat))
        print(f"{count:>9,} | slapd RSS {rss_before:.0f} MiB before the lists, {rss_kept:.0f} MiB holding them "
              "(page and bare client each: all mailboxes, the search, the dashboard's counts)", flush=True)
        app.extensions["mailadmin"].close()
        return rows
    finally:
        services.close()
        slapd.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def slapd_rss_mib(slapd: PrivateSlapd) -> float:
    """Resident memory of the benchmark's slapd (kept sorted lists live there)."""
    for line in Path(f"/proc/{slapd.running_pid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dashboard_row(services: Services, client: object, repeat: int) -> tuple[str, float, float, float, float]:
    """The dashboard of a super admin: its bare part is the ten counts (tier x status, certificate
    holders), each a one-entry VLV window; per-unit counts are cached for a minute on both sides."""
    def page_call() -> None:
        response = client.get("/")  # type: ignore[attr-defined]
        assert response.status_code == 200, response.status_code

    def bare_call() -> None:
        services.dashboard.overview()
        services.dashboard.certificate_holders()
    page_ms, bare_ms = timed_pair(page_call, bare_call, repeat)
    return ("dashboard", statistics.median(page_ms), p95(page_ms), statistics.median(bare_ms), p95(bare_ms))


def own_write_row(web: Services, client: object, base: str, repeat: int) -> tuple[str, float, float, float, float]:
    """The first list page after a write through mailadmin (the web app's client): kept lists take it in."""
    rng = random.Random(17)
    uids = [m.uid for m in web.mailboxes.page(MailboxQuery(), 0, 400, full=False)[0]]
    counter = iter(range(1_000_000))

    def write() -> None:
        number = next(counter)
        if number % 2:
            web.mailboxes.add(NewMailbox(full_name=f"Nguyễn Văn {GIVEN[number % len(GIVEN)]}", unit_code="STTTT"))
        else:
            uid = rng.choice(uids)
            (web.mailboxes.resume if web.mailboxes.get(uid).status.value == "suspended" else web.mailboxes.suspend)(uid)

    def page_call() -> None:
        response = client.get("/mailboxes")  # type: ignore[attr-defined]
        assert response.status_code == 200, response.status_code

    def bare_call() -> None:
        web.client.window(base, filters.all_of(IS_MAILBOX), SORT_KEYS, 0, PAGE_SIZE, SUMMARY_ATTRIBUTES)
    sorts = web.client.sorts
    page_ms, bare_ms = timed_pair(page_call, bare_call, repeat, before=write, before_second=lambda: None)
    print(f"  (after own writes: {web.client.sorts - sorts} new server sorts in {2 * (repeat + 3)} list reads)")
    return ("list, after own write", statistics.median(page_ms), p95(page_ms), statistics.median(bare_ms),
            p95(bare_ms))


def changed_directory_row(services: Services, client: object, base: str,
                          repeat: int) -> tuple[str, float, float, float, float]:
    """The first list page after a write from elsewhere: the kept list is stale, slapd sorts everything again."""
    unsorted = DirectoryClient(replace(services.client.config, kept_lists=0))
    unit_dn = dit.unit_dn(services.units.index().units["STTTT"].path, base)
    counter = iter(range(1_000_000))

    def change() -> None:
        services.client.modify(unit_dn, {"description": ("replace", [f"bench {next(counter)}"])})

    def page_call() -> None:
        response = client.get("/mailboxes")  # type: ignore[attr-defined]
        assert response.status_code == 200, response.status_code

    def bare_call() -> None:
        unsorted.window(base, filters.all_of(IS_MAILBOX), SORT_KEYS, 0, PAGE_SIZE, SUMMARY_ATTRIBUTES)
    try:
        page_ms, bare_ms = timed_pair(page_call, bare_call, repeat, before=change)
    finally:
        unsorted.close()
    return ("list, after write elsewhere", statistics.median(page_ms), p95(page_ms), statistics.median(bare_ms),
            p95(bare_ms))


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks: stop slapd
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="6888,100000")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"{'mailboxes':>9} | {'page':<22} | page p50 | page p95 | bare p50 | bare p95 | p95 diff")
    for size in (int(s) for s in args.sizes.split(",")):
        for label, page50, page95, bare50, bare95 in bench_size(size, args.repeat):
            print(f"{size:>9,} | {label:<22} | {page50:6.1f} ms | {page95:6.1f} ms | {bare50:6.1f} ms | "
                  f"{bare95:6.1f} ms | {page95 - bare95:+6.1f} ms", flush=True)



if __name__ == "__main__":
    main()
