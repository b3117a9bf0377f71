"""A reorganisation plan's takes_staff names people by HR id; slapd compares HR ids without case (round 6 made
imports do the same). An officer typing "nv0001" for the directory's NV0001 had the plan refused ("no staff
member nv0001"), and the same person listed as NV0001 in one new unit and nv0001 in another was not seen twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN
from tests.reorg.conftest import small as small  # the fixture, for request.getfixturevalue
from tests.reorg.test_plan_file_errors import reorg

GOOD = PLAN.read_text(encoding="utf-8")


def planned(province: RunningDirectory, tmp_path: Path, text: str, name: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = reorg(province, "plan", str(path))
    return result.returncode, (result.stdout + result.stderr).decode()


def test_takes_staff_names_hr_ids_without_case(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    small = request.getfixturevalue("small")  # tests/reorg's fresh slapd holding the small province
    code, expected = planned(small, tmp_path, GOOD, "plan.yaml")
    assert code == 0, expected
    code, output = planned(small, tmp_path, GOOD.replace('"22024": ["NV0001"]', '"22024": ["nv0001"]'), "lower.yaml")
    assert code == 0 and "Traceback" not in output, output
    assert output.replace("lower.yaml", "plan.yaml") == expected


def test_one_person_under_two_cases_is_listed_twice(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    small = request.getfixturevalue("small")
    twice = GOOD.replace('takes: ["22075", "22024"]', 'takes: ["22075", "22024"]\n    takes_staff:\n'
                                                      '      "22024": ["nv0001"]')
    assert twice != GOOD
    code, output = planned(small, tmp_path, twice, "twice.yaml")
    assert code == 2 and "listed twice" in output and "Traceback" not in output, output
