"""Unit pages and `mailadmin units history` with crafted codes (round 5): LDAP filter metacharacters, NUL,
look-alike digits, very long codes. Each is a plain "no such unit" (404 / exit 3), never a traceback, never
another unit (the fullwidth "５４" is not the province 54)."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from tests.conftest import RunningDirectory, child_environ
from tests.web.conftest import csrf_token

CODES = ["*", "54)(objectClass=*", "*)(|(ou=*", "\\2a", "54\x00", "\x00", "５４", "54\u200b", "x" * 5000, "..",
         "%2e%2e"]


@pytest.mark.parametrize("code", CODES)
def test_a_crafted_unit_code_is_a_plain_404(admin_client: FlaskClient, code: str) -> None:
    page = admin_client.get(f"/units/{quote(code, safe='')}")
    assert page.status_code == 404, page.status_code
    text = page.get_data(as_text=True)
    assert "Traceback" not in text
    token = csrf_token(admin_client, "/units")
    answer = admin_client.post(f"/units/{quote(code, safe='')}/rename", data={"csrf_token": token, "name": "Đổi"})
    assert answer.status_code in (302, 404), answer.status_code
    search = admin_client.get(f"/units?q={quote(code, safe='')}")
    assert search.status_code == 200


@pytest.mark.parametrize("code", ["*", "54)(objectClass=*", "５４", "x" * 5000])
def test_units_history_of_a_crafted_code_is_a_clear_error(directory: RunningDirectory, code: str) -> None:
    result = subprocess.run([sys.executable, "-m", "mailadmin", "units", "history", code], capture_output=True,
                            text=True, env=child_environ(directory, lang="en"), timeout=180, check=False)
    assert result.returncode == 3, result.stdout + result.stderr  # not found
    assert "Traceback" not in result.stderr and "no unit with code" in result.stderr


def test_units_history_of_a_living_unit_says_it_has_none(directory: RunningDirectory) -> None:
    result = subprocess.run([sys.executable, "-m", "mailadmin", "units", "history", "54"], capture_output=True,
                            text=True, env=child_environ(directory, lang="en"), timeout=180, check=False)
    output = result.stdout + result.stderr
    assert result.returncode in (0, 3) and "unexpected" not in output.lower(), output  # none, or "a current unit"
    assert "54" in output
    assert result.returncode == 0 and "is current" in result.stdout and "đang hoạt động" in result.stdout, output
