"""Reserved unit codes are reserved in any case: SYSTEM, System and system are all refused."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


@pytest.mark.parametrize("code", ["SYSTEM", "System", "POLICIES", "system"])
def test_reserved_unit_code_in_any_case_is_refused(admin_client: FlaskClient, unit: Unit, services: Services,
                                                   code: str) -> None:
    token = csrf_token(admin_client, f"/units/{unit.code}")
    response = admin_client.post(f"/units/{unit.code}/create", data={"csrf_token": token, "code": code,
                                                                     "name": "Phòng Hệ thống", "kind": "agency"},
                                 follow_redirects=True)
    assert response.status_code in (200, 400) and "dành riêng" in response.get_data(as_text=True)
    services.units.forget()
    assert code not in services.units.index().units
