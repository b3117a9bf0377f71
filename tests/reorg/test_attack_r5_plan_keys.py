"""A reorganisation plan with a key written twice (round 5): a careless merge of two drafts.

PyYAML keeps the last of two equal keys of a mapping without a word (YAML itself says keys are
unique). In a plan that silently changes who goes where: below, the unit 22015 takes NV0001 out of
22024 on one line and NV0002 on the next; the plan reader kept NV0002 only, and NV0001 went with the
rest of 22024 to 22080 while the dry run reported nothing wrong.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN, dump
from tests.reorg.test_plan_file_errors import reorg

TWICE = PLAN.read_text(encoding="utf-8").replace('      "22024": ["NV0001"]\n',
                                                 '      "22024": ["NV0001"]\n      "22024": ["NV0002"]\n')


def test_a_key_written_twice_is_named_not_dropped(small: RunningDirectory, tmp_path: Path) -> None:
    assert TWICE.count('"22024": [') == 2
    before = dump(small.services)
    path = tmp_path / "hai-lan.yaml"
    path.write_text(TWICE, encoding="utf-8")
    result = reorg(small, "plan", str(path))
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 2, output
    assert "22024" in output and "Traceback" not in output
    assert dump(small.services) == before
