"""`mailadmin cert …` end to end: the real console entry point, the real slapd, today's clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory

from . import factory as f
from .helpers import cert_for, person

TODAY = datetime.now(UTC)


@pytest.fixture(scope="module")
def live() -> f.Hierarchy:
    """A government-style hierarchy valid around the real current time (the CLI has no fake clock)."""
    dates = {"not_before": TODAY - timedelta(days=30), "not_after": TODAY + timedelta(days=3000)}
    root = f.root_ca(**dates)
    return f.Hierarchy(root, f.sub_ca(root, **dates), [root.cert])


def cli(directory: RunningDirectory, anchors: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `mailadmin` with the test directory and MAILADMIN_TRUST_ANCHORS pointing at `anchors`."""
    env = {**os.environ, "MAILADMIN_STATE_DIR": str(directory.settings.state_dir),
           "MAILADMIN_SLAPD_PORT": str(directory.settings.slapd.port), "MAILADMIN_TRUST_ANCHORS": str(anchors),
           "MAILADMIN_LANG": "en"}
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_bind_show_whois_expiring_unbind(directory: RunningDirectory, services: Services, live: f.Hierarchy,
                                         unit: Unit, tmp_path: Path) -> None:
    anchors = tmp_path / "bundle.pem"
    anchors.write_bytes(f.pem(live.root.cert))
    owner = person(services, unit)
    issued = cert_for(live.issuing, owner, not_before=TODAY - timedelta(days=1), not_after=TODAY + timedelta(days=9))
    upload = tmp_path / "an.p7b"
    upload.write_bytes(f.p7b([issued.cert, live.issuing.cert], serialization.Encoding.DER))

    bound = cli(directory, anchors, "cert", "bind", owner.uid, str(upload), "--json")
    assert bound.returncode == 0, bound.stderr
    fingerprint = json.loads(bound.stdout)["fingerprint_sha256"]
    [shown] = json.loads(cli(directory, anchors, "cert", "show", owner.uid, "--json").stdout)
    assert shown["status"] == "expiring" and shown["issuer"] == f.ISSUING_SUBJECT_TEXT

    whois = cli(directory, anchors, "cert", "whois", str(upload), "--json")
    assert [o["uid"] for o in json.loads(whois.stdout)] == [owner.uid]
    soon = json.loads(cli(directory, anchors, "cert", "expiring", "--days", "10", "--json").stdout)
    assert owner.uid in {item["owner"]["uid"] for item in soon}
    table = cli(directory, anchors, "cert", "expiring", "--days", "10")
    assert table.returncode == 0 and owner.uid in table.stdout

    again = cli(directory, anchors, "cert", "bind", owner.uid, str(upload))
    assert again.returncode == 2 and f"already bound to account {owner.uid}" in again.stderr
    assert cli(directory, anchors, "cert", "unbind", owner.uid, fingerprint).returncode == 0
    gone = cli(directory, anchors, "cert", "whois", str(upload))
    assert gone.returncode == 3 and "Error: no account holds this certificate" in gone.stderr


def test_bind_folder_dry_run_and_errors(directory: RunningDirectory, services: Services, live: f.Hierarchy,
                                        unit: Unit, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "root.crt").write_bytes(f.der(live.root.cert))
    owner = person(services, unit)
    drop = tmp_path / "drop"
    drop.mkdir()
    issued = cert_for(live.issuing, owner, not_before=TODAY - timedelta(days=1), not_after=TODAY + timedelta(days=99))
    (drop / "an.pem").write_bytes(f.pem(issued.cert, live.issuing.cert))
    (drop / "bad.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA")
    planned = cli(directory, anchors, "cert", "bind-folder", str(drop), "--dry-run", "--json")
    assert planned.returncode == 1  # one file is bad
    report = json.loads(planned.stdout)
    assert report["applied"] is False
    assert [(row["file"], row["outcome"]) for row in report["files"]] == [("an.pem", "bind"), ("bad.pem", "error")]
    assert "truncated" in report["files"][1]["messages"][0]
    assert services.mailboxes.get(owner.uid).certificates == ()
    (drop / "bad.pem").unlink()
    applied = cli(directory, anchors, "cert", "bind-folder", str(drop))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert len(services.mailboxes.get(owner.uid).certificates) == 1

    garbage = tmp_path / "garbage.cer"
    garbage.write_bytes(b"\x30\x82\xff\xff trailing")
    refused = cli(directory, anchors, "cert", "bind", owner.uid, str(garbage))
    assert refused.returncode == 2 and refused.stderr.startswith("Lỗi: ") and "Traceback" not in refused.stderr
    missing = cli(directory, tmp_path / "nowhere", "cert", "bind", owner.uid, str(drop / "an.pem"))
    assert missing.returncode == 8 and "Trust anchor file or folder not found" in missing.stderr
