"""Plans that name what the directory does not hold, or take the same staff twice (round 5): each is refused
by `mailadmin reorg plan` naming the code, with nothing written (held)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningDirectory
from tests.reorg.conftest import PLAN, dump
from tests.reorg.test_plan_file_errors import reorg

GOOD = PLAN.read_text(encoding="utf-8")
STAFF = '    takes_staff:\n      "22024": ["NV0001"]\n'
BAD = [
    (GOOD.replace('takes: ["22075", "22024"]', 'takes: ["22075", "22024", "99999"]'), "99999"),
    (GOOD.replace('"22024": ["NV0001"]', '"99998": ["NV0001"]'), "99998"),
    (GOOD.replace('close: ["555", "557"]', 'close: ["555", "557", "99997"]'), "99997"),
    (GOOD.replace('takes: ["22075", "22024"]', f'takes: ["22075", "22024"]\n{STAFF}'), "NV0001"),
    (GOOD.replace('takes: ["SKHCN", "STTTT"]', 'takes: ["SKHCN", "STTTT", "22024"]'), "22024"),
    (GOOD.replace('close: ["555", "557"]', 'close: ["555", "557", "STC"]'), "STC"),
    (GOOD.replace('code: "22080"', 'code: "A*)(ou=*"'), "A*)(ou=*"),
]


def test_plans_naming_what_is_not_there_or_taking_staff_twice(small: RunningDirectory, tmp_path: Path) -> None:
    before = dump(small.services)
    accepted = []
    for number, (text, code) in enumerate(BAD):
        assert text != GOOD, number
        path = tmp_path / f"plan-{number}.yaml"
        path.write_text(text, encoding="utf-8")
        result = reorg(small, "plan", str(path))
        output = (result.stdout + result.stderr).decode()
        assert "Traceback" not in output, output
        if result.returncode != 2 or code not in output:
            accepted.append((number, code, result.returncode, output[-600:]))
    assert accepted == []
    assert dump(small.services) == before
