"""scripts/screenshots (issue #12 acceptance: "Playwright screenshots of every page at 1366 px and 390 px are
produced by a script"): it runs, writes a PNG per page, width and role, and reports no overflow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailadmin.resources import project_root
from tests.web.conftest import CHROMIUM

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")


def test_the_script_shoots_the_chosen_pages_at_both_widths(tmp_path: Path) -> None:
    script = project_root() / "scripts" / "screenshots.py"
    done = subprocess.run([sys.executable, str(script), "--widths", "1366", "390", "--only", "mailboxes-show",
                           "--roles", "auditor", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no page is wider than the screen" in done.stdout
    for width in ("1366", "390"):
        shots = sorted(path.name for path in (tmp_path / width).glob("*.png"))
        assert shots == ["mailboxes-show--auditor.png", "mailboxes-show-retired--auditor.png",
                         "mailboxes-show-suspended--auditor.png"]
        assert all(path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for path in (tmp_path / width).glob("*.png"))
