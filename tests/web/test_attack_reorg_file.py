"""A reorganisation plan with an impossible date, uploaded by a super admin (the plan file is another engineer's).

`effective: 2025-13-45` (or `2025-02-30`) looks like a YAML timestamp, so the safe loader built a
date and raised ValueError, which the plan reader did not catch (it catches yaml.YAMLError): the
upload answered 500 "unexpected error" instead of naming the line. Dates now stay text until the plan
reader checks them.
"""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import csrf_token

PLAN = "reorg: {{id: ngay-sai, effective: {day}}}\nunits: [{{code: '66', name: Tỉnh mới, kind: province, " \
       "parent: null, takes: ['54']}}]\n"


@pytest.mark.parametrize("day", ["2025-13-45", "2025-02-30"])
def test_an_impossible_date_in_a_plan_is_a_400_naming_it(admin_client: FlaskClient, day: str) -> None:
    plan = PLAN.format(day=day).encode()
    answer = admin_client.post("/reorg", data={"csrf_token": csrf_token(admin_client, "/reorg"),
                                               "file": (io.BytesIO(plan), "ke-hoach.yaml")},
                               content_type="multipart/form-data")
    assert answer.status_code == 400
    assert day in answer.get_data(as_text=True)
