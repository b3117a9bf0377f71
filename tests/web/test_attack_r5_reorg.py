"""Hostile reorganisation plans (round 5), uploaded by a super admin and given to `mailadmin reorg plan`.

A plan is YAML read with PyYAML's safe loader: no Python object is ever built, but the safe loader
still expands aliases and composes nodes recursively. The import's reader (importer/parse.py,
_NoAliasLoader) refuses both; the plan reader did not: a 500-byte "billion laughs" plan made the
plan reader build its text (str() of the nested lists) until memory ran out, and 5,000 "[" ended in
a RecursionError, a 500 in the browser and a traceback in the terminal.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import RunningDirectory, child_environ
from tests.web.conftest import csrf_token

HEAD = "reorg: {id: thu, title: Thử, effective: 2025-07-01}\naddresses: {domain: example.gov.vn}\n"
LAUGHS = "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
                    *(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)),
                    "reorg: {id: *a8, title: *a8, effective: 2025-07-01}", ""])
BOUNDARY = "attack-r5-boundary"
MEMORY_CAP = 512 * 1024 * 1024  # the child's address space: a plan reader that expands aliases stops here


def upload(client: FlaskClient, plan: bytes, name: str = "ke-hoach.yaml"):  # type: ignore[no-untyped-def]
    return client.post("/reorg", data={"csrf_token": csrf_token(client, "/reorg"), "file": (io.BytesIO(plan), name)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize(("plan", "expected"), [
    (HEAD + "units: !!python/object/apply:os.system ['touch /tmp/attack-r5-pwned']\n", "YAML"),
    (HEAD + "units: !!binary aGVsbG8=\n", "units"),
    (bytes(range(256)) * 64, "UTF-8"),
    (b"\x00" * 4096, "YAML"),
    ("\ufeff" + HEAD + "units: [" + "{code: '1'}, " * 10 + "\n", "YAML"),
])
def test_a_hostile_plan_is_a_400_in_both_languages(admin_client: FlaskClient, plan: str | bytes,
                                                   expected: str) -> None:
    data = plan.encode() if isinstance(plan, str) else plan
    answer = upload(admin_client, data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400, page[:2000]
    assert expected in page and "Traceback" not in page
    assert not Path("/tmp/attack-r5-pwned").exists()


def test_a_plan_larger_than_the_request_limit_is_refused(admin_client: FlaskClient) -> None:
    # The body is sent as bytes: as a file part the test client spools it to a temporary file that the
    # refused request never reads nor closes (a ResourceWarning failing the next test's setup).
    token = csrf_token(admin_client, "/reorg")
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="ke-hoach.yaml"\r\n\r\n')
    body = head.encode() + b"#" * (50 * 1024 * 1024) + f"\r\n--{BOUNDARY}--\r\n".encode()
    answer = admin_client.post("/reorg", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert answer.status_code == 413


@pytest.mark.parametrize("nested", ["[" * 1200 + "]" * 1200, "{a: " * 3000 + "1" + "}" * 3000])
def test_a_deeply_nested_plan_is_a_400(admin_client: FlaskClient, nested: str) -> None:
    answer = upload(admin_client, (HEAD + f"units: {nested}\n").encode())
    assert answer.status_code == 400
    assert "YAML" in answer.get_data(as_text=True)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def test_a_billion_laughs_plan_is_refused_at_once(directory: RunningDirectory, tmp_path: Path) -> None:
    path = tmp_path / "cuoi.yaml"
    path.write_text(LAUGHS, encoding="utf-8")
    assert path.stat().st_size < 600
    result = subprocess.run([sys.executable, "-m", "mailadmin", "reorg", "plan", str(path)], capture_output=True,
                            env=child_environ(directory), timeout=300, check=False, preexec_fn=_capped)
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 2, output[-2000:]
    assert "Traceback" not in output and "YAML" in output
