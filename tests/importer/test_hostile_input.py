"""HR files as they really arrive (and as an attacker would send them), through `mailadmin import --dry-run`.

Each test runs the real command as a child process against the session slapd and checks that
nothing in the directory changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ

from .conftest import import_file, state_of
from .helpers import csv_file


def mailadmin(directory: RunningDirectory, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mailadmin ARGS` on the test directory, messages in English."""
    return subprocess.run([sys.executable, "-m", "mailadmin", *args], capture_output=True, text=True,
                          env=child_environ(directory, lang="en"), timeout=120)


def dry_run(directory: RunningDirectory, tmp_path: Path, data: bytes, name: str = "staff.csv") -> dict[str, Any]:
    """The JSON plan of a dry run of a file (exit 0, or 2 when some rows are refused)."""
    source = tmp_path / name
    source.write_bytes(data)
    done = mailadmin(directory, "import", str(source), "--dry-run", "--json")
    assert done.returncode in (0, 2) and "Traceback" not in done.stderr, done.stderr
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def refused_file(directory: RunningDirectory, tmp_path: Path, data: bytes, name: str) -> str:
    """The bilingual message of a file refused as a whole (exit 2, no traceback)."""
    source = tmp_path / name
    source.write_bytes(data)
    done = mailadmin(directory, "import", str(source), "--dry-run")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("Lỗi: ") and "\nError: " in done.stderr, done.stderr
    return done.stderr


def errors_by_line(plan: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {error["line"]: error for error in plan["errors"]}


@pytest.mark.parametrize(("data", "name"), [(b"[" * 400 + b"]" * 400, "deep.yaml"),
                                            (b"a: " + b"{b: " * 400 + b"c" + b"}" * 400, "deep.yml"),
                                            (b"- " * 400 + b"x\n", "dashes.yaml")])
def test_deeply_nested_yaml_is_a_file_error(directory: RunningDirectory, services: Services, unit: Unit,
                                             tmp_path: Path, data: bytes, name: str) -> None:
    before = state_of(services, unit)
    message = refused_file(directory, tmp_path, data, name)
    assert "nested" in message and "lồng" in message
    assert state_of(services, unit) == before


@pytest.mark.parametrize("name", ["*)(objectClass=*", "cn=admin,dc=phuyen,dc=gov,dc=vn",
                                  '=HYPERLINK("http://evil","x")', "Nguyễn Văn <b>An</b>", "Trần 2 Bình",
                                  "Lê Văn; DROP", "---", "'"])
def test_a_name_holds_only_what_names_hold(directory: RunningDirectory, services: Services, unit: Unit,
                                           tmp_path: Path, name: str) -> None:
    plan = dry_run(directory, tmp_path, csv_file([["HN1", name, unit.code]]))
    [error] = plan["errors"]
    assert (error["line"], error["column"], error["field"]) == (2, "2", "full_name")
    assert "name" in error["error_en"] and "tên" in error["error_vi"]
    assert plan["counts"]["create"] == 0


@pytest.mark.parametrize("name", ["Y Moan Niê", "H'Hen Niê", "H’Hen Niê", "Hʼ Mai Byă", "Nguyễn Thị Minh-Khai",
                                  "J. R. Smith", "Đặng Thị Đào", "Ông Ích Khiêm", "李 小龍 明"])
def test_real_names_pass(directory: RunningDirectory, unit: Unit, tmp_path: Path, name: str) -> None:
    plan = dry_run(directory, tmp_path, csv_file([["HP1", name, unit.code]]))
    assert plan["errors"] == [] or plan["errors"][0]["error_en"].startswith("cannot make an address"), plan
    assert plan["counts"]["create"] + plan["counts"]["error"] == 1


def test_bad_names_write_nothing_on_apply(services: Services, unit: Unit) -> None:
    before = state_of(services, unit)
    result = import_file(services, csv_file([["HA1", "*)(objectClass=*", unit.code],
                                             ["HA2", "cn=admin,dc=phuyen,dc=gov,dc=vn", unit.code]]))
    assert result["counts"]["create"] == 0 and len(result["errors"]) == 2
    assert state_of(services, unit) == before


HONORIFICS = [("Đ/c Nguyễn Văn Bình", "Nguyễn Văn Bình", "binhnv"), ("Ông Trần Văn Nam", "Trần Văn Nam", "namtv"),
              ("TS. Nguyễn Văn An", "Nguyễn Văn An", "annv"), ("Nguyễn Văn An (Phó phòng)", "Nguyễn Văn An", "annv"),
              ("PGS.TS. Lê Thị Hoa", "Lê Thị Hoa", "hoalt"), ("ths Phạm Văn Đức", "Phạm Văn Đức", "ducpv"),
              ("Đồng chí Võ Văn Tư [Bí thư]", "Võ Văn Tư", "tuvv"), ("bà Th.S Hồ Thị Lan", "Hồ Thị Lan", "lanht"),
              ("GS.TS Đỗ Văn Hải", "Đỗ Văn Hải", "haidv"), ("Anh Nguyễn Minh Tú", "Nguyễn Minh Tú", "tunm")]


@pytest.mark.parametrize(("written", "name", "local"), HONORIFICS)
def test_honorifics_and_bracketed_titles_are_stripped_with_a_warning(
        directory: RunningDirectory, services: Services, unit: Unit, tmp_path: Path, written: str, name: str,
        local: str) -> None:
    before = state_of(services, unit)
    plan = dry_run(directory, tmp_path, csv_file([["HH1", written, unit.code]]))
    assert plan["errors"] == [] and plan["counts"]["create"] == 1
    [warning] = plan["warnings"]
    assert (warning["line"], warning["column"], warning["field"]) == (2, "2", "full_name")
    assert name in warning["warning_vi"] and name in warning["warning_en"]
    report = tmp_path / "plan.csv"
    done = mailadmin(directory, "import", str(tmp_path / "staff.csv"), "--dry-run", "--report", str(report))
    assert done.returncode == 0 and "Cảnh báo" in done.stdout and "Warning" in done.stdout, done.stderr
    assert f",{name},{unit.code},{local}" in report.read_text("utf-8-sig")
    assert state_of(services, unit) == before


@pytest.mark.parametrize("written", ["Nguyễn Thị Anh", "Anh Tuấn", "Bà Nguyễn", "Trần Văn Ông"])
def test_a_given_name_that_looks_like_an_honorific_stays(directory: RunningDirectory, unit: Unit, tmp_path: Path,
                                                         written: str) -> None:
    plan = dry_run(directory, tmp_path, csv_file([["HG1", written, unit.code]]))
    assert plan["errors"] == [] and plan["warnings"] == []




def mojibake(text: str) -> str:
    """UTF-8 read as Windows-1252 the way Excel does it (bytes it lacks become C1 controls): 'Nguyá»…n'."""
    return "".join(bytes([byte]).decode("cp1252", errors="ignore") or chr(byte) for byte in text.encode())


MOJIBAKE = mojibake("Nguyễn Văn A")


def test_mojibake_name_is_refused_with_the_reason(directory: RunningDirectory, services: Services, unit: Unit,
                                                  tmp_path: Path) -> None:
    rows = [["HM1", MOJIBAKE, unit.code], ["HM2", "Trần Thị Bích", unit.code], ["HM3", "Lê Văn Cường", unit.code]]
    plan = dry_run(directory, tmp_path, csv_file(rows))
    [error] = plan["errors"]
    assert (error["line"], error["column"]) == (2, "2")
    assert "Nguyễn Văn A" in error["error_en"] and "Windows-1252" in error["error_en"]
    assert "CSV UTF-8" in error["error_en"] and "CSV UTF-8" in error["error_vi"]
    assert plan["counts"]["create"] == 2


def test_a_file_mostly_in_mojibake_is_refused_whole(directory: RunningDirectory, services: Services, unit: Unit,
                                                    tmp_path: Path) -> None:
    names = ["Nguyễn Văn A", "Trần Thị Bích", "Lê Văn Cường", "Phạm Thị Dung"]
    rows = [[f"HF{i}", mojibake(n), unit.code] for i, n in enumerate(names)]
    message = refused_file(directory, tmp_path, csv_file(rows + [["HF9", "Võ Văn Em", unit.code]]), "staff.csv")
    assert "Windows-1252" in message and "CSV UTF-8" in message


def test_the_same_hr_id_twice_refuses_both_rows(directory: RunningDirectory, services: Services, unit: Unit,
                                                tmp_path: Path) -> None:
    rows = [["HD1", "Nguyễn Văn An", unit.code], ["HD2", "Trần Văn Bình", unit.code],
            ["HD1", "Lê Văn Cường", unit.code]]
    plan = dry_run(directory, tmp_path, csv_file(rows))
    errors = errors_by_line(plan)
    assert sorted(errors) == [2, 4] and plan["counts"]["create"] == 1
    for error in errors.values():
        assert "2" in error["error_en"] and "4" in error["error_en"] and "HD1" in error["error_vi"]
    before = state_of(services, unit)
    result = import_file(services, csv_file([rows[0], rows[2]]))
    assert result["counts"]["create"] == 0 and state_of(services, unit) == before


@pytest.mark.parametrize("written", ["stttt", "Stttt", "54/stttt", "54/SttTT"])
def test_a_unit_code_in_another_case_is_the_unit_without_a_reorganisation_note(
        directory: RunningDirectory, tmp_path: Path, written: str) -> None:
    """Unit codes ignore case: "stttt" is STTTT today, not a path from before a reorganisation."""
    plan = dry_run(directory, tmp_path, csv_file([["HC1", "Phạm Văn Chữ", written]]))
    assert plan["errors"] == [] and plan["warnings"] == [], plan
    assert plan["counts"]["create"] == 1
