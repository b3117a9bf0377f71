"""Crafted job ids on the import and reorganisation job routes (round 5): plain 404s, no path escapes (held)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import csrf_token
from tests.web.test_attack_r5_bulk import CRAFTED_IDS

GETS = ["/imports/{job}", "/imports/{job}/status", "/reorg/{job}", "/reorg/{job}/status"]
POSTS = ["/imports/{job}/confirm", "/imports/{job}/results", "/reorg/{job}/confirm",
         "/reorg/{job}/undo"]


@pytest.mark.parametrize("job_id", CRAFTED_IDS)
def test_a_crafted_job_id_is_a_plain_404(admin_client: FlaskClient, job_id: str) -> None:
    token = csrf_token(admin_client, "/imports")
    answers = [admin_client.get(path.format(job=job_id)) for path in GETS]
    answers += [admin_client.post(path.format(job=job_id), data={"csrf_token": token}) for path in POSTS]
    assert [answer.status_code for answer in answers] == [404] * len(answers), job_id
    assert not any("Traceback" in answer.get_data(as_text=True) for answer in answers)
