"""Benchmark: certificate binding, whois and expiring against the bare LDAP operations behind them.

Method. A brand-new private slapd (durable mdb) in a temporary state folder below var/, started by
this process; `mailadmin directory init` and `mailadmin demo seed` (6,888 mailboxes) run in child
processes before any timer. A test-style CA hierarchy (cryptography, EC P-256) issues one signing
certificate per mailbox for 2 x N mailboxes (untimed). Then, in this process:

1. bind. Limit: the bare write, one synchronous LDAP modify per certificate adding
   userCertificate;binary, maCertFingerprint, maCertIssuerSerial and the object class, for
   mailboxes N..2N-1 (what slapd must do at least: one write transaction and fsync each).
   Ours: `CertificateService.plan_folder` over a folder of the N other certificates (parse,
   validate, find the mailbox by mail, owner lookup) and `apply` (entry lookups, the modify,
   the audit record with its own fsync), timed apart.
2. whois. Limit: the bare indexed search (maCertFingerprint=...) per certificate.
   Ours: `CertificateService.whois(pem)` (parse, fingerprint + issuer/serial lookups).
3. expiring. Limit: the bare paged search for every mailbox holding a certificate with the
   attributes the service reads. Ours: `CertificateService.expiring(3650)` (parse every
   certificate, statuses, unit-admin lookups) over the same 2 x N certificates.

Ratios are ours / limit in the same run. slapd is stopped by its PID at the end; nothing else
is started. --count N (default 500) bounds everything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailadmin.certs.keys import fingerprint_key, issuer_serial_key  # noqa: E402
from mailadmin.directory.certificates import HOLDER_CLASS, OWNER_ATTRIBUTES  # noqa: E402
from mailadmin.directory.mailboxes import IS_MAILBOX  # noqa: E402
from mailadmin.model import Mailbox  # noqa: E402
from mailadmin.services.certificates import CertificateService  # noqa: E402
from mailadmin.settings import load_settings  # noqa: E402
from mailadmin.slapd import PrivateSlapd  # noqa: E402
from mailadmin.wiring import Services  # noqa: E402
from tests.certs import factory as f  # noqa: E402

NOW = datetime.now(UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child(settings_env: dict[str, str], *args: str) -> None:
    """Run `mailadmin ARGS` in a fresh process (no ldap3 bulk threads left in this one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILADMIN_")} | settings_env
    subprocess.run([sys.executable, "-m", "mailadmin", *args], env=env, check=True, capture_output=True,
                   timeout=300)


def timed(label: str, count: int, action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"  {label:<44}{seconds:8.2f} s {1000 * seconds / count:8.2f} ms each")
    return seconds


def issue_for(gov: f.Hierarchy, mailbox: Mailbox, days: int) -> f.Issued:
    subject = f.official_name(mailbox.name.full, email=mailbox.mail)
    return f.official(gov.issuing, subject, emails=(mailbox.mail,), not_before=NOW - timedelta(days=1),
                      not_after=NOW + timedelta(days=days))


def run(count: int, work: Path) -> None:
    env = {"MAILADMIN_STATE_DIR": str(work / "state"), "MAILADMIN_SLAPD_PORT": str(free_port())}
    settings = load_settings(env)
    slapd = PrivateSlapd(settings)
    slapd.start()
    services = Services(settings)
    try:
        child(env, "directory", "init")
        child(env, "demo", "seed")
        gov = live_hierarchy()
        anchors = work / "anchors.pem"
        anchors.write_bytes(f.pem(gov.root.cert))
        certs = CertificateService(replace(settings, certificates=replace(settings.certificates,
                                                                          trust_anchors=str(anchors))),
                                   services.client, services.mailboxes, services.units, services.audit)
        people = [m for m in services.mailboxes.store.search(size_limit=2 * count + 1) if m.uid != "quantri"]
        people = people[: 2 * count]
        issued = [issue_for(gov, m, 10 + i % 400) for i, m in enumerate(people)]
        measure(services, certs, gov, people, issued, count, work)
    finally:
        services.close()
        slapd.stop()


def live_hierarchy() -> f.Hierarchy:
    dates = {"not_before": NOW - timedelta(days=30), "not_after": NOW + timedelta(days=3000)}
    root = f.root_ca(**dates)
    return f.Hierarchy(root, f.sub_ca(root, **dates), [root.cert])


def measure(services: Services, certs: CertificateService, gov: f.Hierarchy, people: list[Mailbox],
            issued: list[f.Issued], count: int, work: Path) -> None:
    client = services.client
    bare_people, ours_people = people[count:], people[:count]
    dns = [services.mailboxes.store.find_entry(m.uid).dn for m in bare_people]
    print(f"{count} certificates per side; {len(people)} mailboxes of 6,888 used; load {os.getloadavg()[0]:.2f}")

    def bare_bind() -> None:
        for dn, item in zip(dns, issued[count:], strict=True):
            client.modify(dn, {"objectClass": ("add", [HOLDER_CLASS]),
                               "userCertificate;binary": ("add", [f.der(item.cert)]),
                               "maCertFingerprint": ("add", [fingerprint_key(item.cert)]),
                               "maCertIssuerSerial": ("add", [issuer_serial_key(item.cert)])})
    drop = work / "drop"
    drop.mkdir()
    for mailbox, item in zip(ours_people, issued[:count], strict=True):
        (drop / f"{mailbox.uid}.pem").write_bytes(f.pem(item.cert, gov.issuing.cert))
    plans = []
    limit = timed("bind, bare modify (limit)", count, bare_bind)
    plan_s = timed("bind, plan_folder (parse, validate, lookups)", count, lambda: plans.append(certs.plan_folder(drop)))
    apply_s = timed("bind, apply (write + audit)", count, lambda: certs.apply(plans[0]))
    bound = plans[0].count("bound")
    if bound != count:
        raise SystemExit(f"only {bound} of {count} bound: {[r.record('en') for r in plans[0].rows][:3]}")
    print(f"  ratio bind apply / bare: {apply_s / limit:.2f}; plan + apply / bare: {(plan_s + apply_s) / limit:.2f}")

    pems = [f.pem(item.cert) for item in issued]
    fingerprints = [fingerprint_key(item.cert) for item in issued]
    bare_whois = timed("whois, bare (maCertFingerprint=…) (limit)", len(pems), lambda: [
        client.search(client.base_dn, f"(&{IS_MAILBOX}(maCertFingerprint={fp}))", attributes=["uid"])
        for fp in fingerprints])
    ours_whois = timed("whois, CertificateService.whois", len(pems), lambda: [certs.whois(p) for p in pems])
    print(f"  ratio whois / bare: {ours_whois / bare_whois:.2f}")

    holders = f"(&{IS_MAILBOX}(userCertificate=*))"
    found: list[int] = []
    bare_exp = timed("expiring, bare search of holders (limit)", len(issued), lambda: found.append(
        len(client.search(client.base_dn, holders, attributes=OWNER_ATTRIBUTES))))
    ours_exp = timed("expiring, CertificateService.expiring", len(issued), lambda: found.append(
        len(certs.expiring(3650, include_renewed=True))))
    print(f"  ratio expiring / bare: {ours_exp / bare_exp:.2f} ({found[0]} holders, {found[1]} certificates)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="certificates per side (default 500, max 3000)")
    args = parser.parse_args()
    if not 1 <= args.count <= 3000:
        parser.error("--count must be between 1 and 3000")
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-certs-", dir=ROOT / "var"))
    try:
        run(args.count, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
