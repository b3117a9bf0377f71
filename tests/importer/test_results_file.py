"""The results file is written a block at a time (100,000 rows never sit in memory as one text)."""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.importer.report import BLOCK_CHARS, RESULT_HEADERS, results_csv, write_once


def rows(count: int) -> Iterator[list[str]]:
    for n in range(count):
        yield [str(n + 2), f"HR-{n}", "Nguyễn Thị Hòa", "STTTT", f"hoa.nt{n}@phuyen.gov.vn", "Tạo mới (create)", "",
               "=cmd|' /C calc'!A0"]


def test_a_results_file_of_many_blocks_reads_back_whole(tmp_path: Path) -> None:
    count = 3 * BLOCK_CHARS // 80  # rows of ~100 characters: several blocks
    path = tmp_path / "results.csv"
    write_once(path, results_csv(rows(count)))
    text = path.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\ufeff") == 1
    read = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert read[0] == list(RESULT_HEADERS)
    assert len(read) == count + 1
    assert read[-1][:2] == [str(count + 1), f"HR-{count - 1}"]
    assert read[-1][7] == "'=cmd|' /C calc'!A0"  # formulas still neutralised in every block
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_results_file_that_cannot_be_finished_is_not_left_half_written(tmp_path: Path) -> None:
    def failing() -> Iterator[list[str]]:
        yield from rows(3 * BLOCK_CHARS // 80)
        raise OSError("journal unreadable")

    path = tmp_path / "results.csv"
    with pytest.raises(OSError):
        write_once(path, results_csv(failing()))
    assert not path.exists()
