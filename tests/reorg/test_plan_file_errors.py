"""Bad plan files through `mailadmin reorg plan`: a bilingual line and key per problem, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RunningDirectory, child_environ
from tests.reorg.conftest import PLAN, dump

GOOD = PLAN.read_text(encoding="utf-8")


def reorg(running: RunningDirectory, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "mailadmin", "reorg", *args], capture_output=True, input=stdin,
                          env=child_environ(running), timeout=120, check=False)


@pytest.mark.parametrize(("text", "expected"), [
    (GOOD.replace('kind: ward', 'kind: huyen'), ["dòng 36", "line 36", "units[3].kind", "huyen"]),
    (GOOD.replace('takes: ["STC", "SKHDT"]', 'takes: ["STC", "SKHDT", "22018"]'),
     ["22018", "đã được tiếp nhận hoặc đóng ở nơi khác", "already taken over or closed elsewhere"]),
    (GOOD.replace('close: ["555", "557"]', 'close: ["555"]'),
     ["557", "line 46", "không được đơn vị mới nào tiếp nhận"]),
    (GOOD.replace('"NV0001"', '"NV9999"'), ["NV9999", "no staff member"]),
    (GOOD.replace('parent: "66"\n    takes: ["22075"', 'parent: "77"\n    takes: ["22075"'),
     ["units[4].parent", "77", "must be listed before"]),
    (GOOD.replace("effective: 2025-07-01", "effective: 1/7/2025"), ["reorg.effective", "YYYY-MM-DD"]),
    (GOOD.replace("domain: daklak.gov.vn", "domain: daklak"), ["addresses.domain", "not a valid domain"]),
    ("units: [", ["YAML", "dòng", "line"]),
    ("- just\n- a list\n", ["reorg, addresses, units"]),
])
def test_a_bad_plan_is_refused_with_line_key_and_reason(small: RunningDirectory, tmp_path: Path, text: str,
                                                        expected: list[str]) -> None:
    before = dump(small.services)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    result = reorg(small, "plan", str(path))
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert all(part in output for part in expected), output
    assert reorg(small, "apply", str(path)).returncode == 2
    assert dump(small.services) == before


def test_a_file_that_is_not_utf8_or_too_large(small: RunningDirectory) -> None:
    result = reorg(small, "plan", "-", stdin="reorg: {id: x}\n".encode("utf-16"))
    assert result.returncode == 2 and "UTF-8" in result.stderr.decode()
    result = reorg(small, "plan", "-", stdin=b"#" * (5 * 1024 * 1024))
    assert result.returncode == 2 and "larger than 4 MB" in result.stderr.decode()


def test_plan_json_then_apply_json_status_and_undo_through_the_cli(small: RunningDirectory) -> None:
    before = dump(small.services)
    planned = json.loads(reorg(small, "plan", str(PLAN), "--json").stdout)
    assert planned["dry_run"] and planned["conflicts"] == [] and planned["mailboxes_moving"] == 21
    assert dump(small.services) == before
    applied = reorg(small, "apply", str(PLAN), "--json")
    assert applied.returncode == 0, applied.stderr
    job = json.loads(applied.stdout)["job"]
    status = json.loads(reorg(small, "status", job, "--json").stdout)
    assert status["state"] == "done" and status["done"] == sum(status["writes"].values())
    assert reorg(small, "undo", job, "--json").returncode == 0
    assert reorg(small, "undo", job).returncode == 4  # a job undone already: a conflict, said in both languages
    assert reorg(small, "status", "20990101-000000-abcdef").returncode == 3


def test_old_addresses_expire_after_their_date_and_undo_brings_them_back(small: RunningDirectory) -> None:
    assert reorg(small, "apply", str(PLAN)).returncode == 0
    applied = dump(small.services)
    early = json.loads(reorg(small, "expire", "--today", "2026-06-30", "--json").stdout)
    assert early["mailboxes"] == 0 and dump(small.services) == applied  # kept until (and on) their date
    dry = json.loads(reorg(small, "expire", "--today", "2026-07-01", "--dry-run", "--json").stdout)
    assert dry["mailboxes"] == 33 and dump(small.services) == applied
    expired = json.loads(reorg(small, "expire", "--today", "2026-07-01", "--json").stdout)
    assert expired["failed_count"] == 0
    mailboxes = list(small.services.mailboxes.store.search())
    assert all(not a.endswith("@phuyen.gov.vn") for m in mailboxes for a in (m.mail, *m.aliases))
    assert any("tiepdan22018@daklak.gov.vn" in m.aliases for m in mailboxes)
    assert reorg(small, "undo", expired["job"]).returncode == 0
    assert dump(small.services) == applied
