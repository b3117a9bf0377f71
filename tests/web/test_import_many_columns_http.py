"""A file with 40,000 columns the import does not know: the warning names a few and counts the rest.

Before, every name was listed: a 1.8 MB preview page for 100,000, and as much in the job's notes and the CLI
output. 40,000 keeps the upload under 500 KB: above that, werkzeug's test client encodes the form into a
temporary file it never closes (a ResourceWarning that fails whichever test the garbage collector runs in).
"""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from mailadmin.model import Unit
from tests.conftest import RunningDirectory
from tests.test_cli import run
from tests.web.test_imports_http import upload

UNKNOWN = 40_000


def wide_file(unit: Unit) -> bytes:
    """The three required columns, then UNKNOWN columns nobody maps (Cột00001 … Cột40000)."""
    extra = [f"Cột{number:05d}" for number in range(1, UNKNOWN + 1)]
    header = ";".join(["Mã nhân sự", "Họ tên", "Đơn vị", *extra])
    return f"{header}\r\nWIDE-{unit.code}-1;Lê Thị Rộng;{unit.code}\r\n".encode()


def test_the_web_preview_names_twenty_unknown_columns_and_counts_the_rest(admin_client: FlaskClient,
                                                                         unit: Unit) -> None:
    answer = upload(admin_client, wide_file(unit), "rong.csv")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    page = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "4 (Cột00001)" in page and "23 (Cột00020)" in page and "Cột00021" not in page
    assert f"và {UNKNOWN - 20} cột khác" in page and f"and {UNKNOWN - 20} more" not in page  # one language
    assert len(page.encode()) < 100_000
    admin_client.get("/lang/en")
    english = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "4 (Cột00001)" in english and f"and {UNKNOWN - 20} more" in english and "Cột00021" not in english
    assert "cột khác" not in english


def test_the_cli_json_counts_the_unknown_columns_and_names_the_first(directory: RunningDirectory, unit: Unit,
                                                                    tmp_path) -> None:
    source = tmp_path / "rong.csv"
    source.write_bytes(wide_file(unit))
    result = run(directory, "import", str(source), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(result.stdout) < 20_000
    notes = json.loads(result.stdout)["notes"]
    assert len(notes) == 1
    assert "4 (Cột00001)" in notes[0]["vi"] and f"và {UNKNOWN - 20} cột khác" in notes[0]["vi"]
    assert f"and {UNKNOWN - 20} more" in notes[0]["en"] and "Cột00021" not in notes[0]["en"]
    assert "more" not in notes[0]["vi"] and "cột khác" not in notes[0]["en"]  # each language on its own
    ignored = json.loads(result.stdout)["ignored_columns"]
    assert ignored == {"count": UNKNOWN, "first": [f"{number + 3} (Cột{number:05d})" for number in range(1, 21)]}
    text = run(directory, "import", str(source), "--dry-run")
    assert text.returncode == 0 and len(text.stdout) < 20_000 and f"and {UNKNOWN - 20} more" in text.stdout
