"""A property over the list page and the API's paging and search parameters: junk gets 200/400/403/404, never 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailadmin.model import Role, Status, Tier, Unit
from mailadmin.wiring import Services
from tests.web.conftest import login

ALLOWED = {200, 400, 403, 404}
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

junk = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # NULs, controls, any script
numbers = st.one_of(st.integers(-10**30, 10**30).map(str), st.sampled_from(
    ["", " 7", "1e3", "0x10", "-0", "NaN", "٣", "9" * 5000, "1_000", "+5", "١٠"]), junk)
choices = st.one_of(st.sampled_from([*(t.value for t in Tier), *(s.value for s in Status)]), junk)


def query(units: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """Any mix of the list parameters, each either sensible or junk."""
    return st.fixed_dictionaries({}, optional={
        "page": numbers, "offset": numbers, "limit": numbers, "q": st.one_of(st.just("văn"), junk),
        "unit": st.one_of(st.sampled_from(units), junk), "tier": choices, "status": choices,
        "sort": st.one_of(st.sampled_from(["name", "-address", "hr_id", "-status", "-", "uid)(cn=*"]), junk)})


@pytest.fixture
def unit_admin(app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> tuple[FlaskClient, str]:
    """A unit admin of `unit`: a logged-in web client and an API token."""
    uid = person("Trần Thuộc Tính", unit, Role.UNITADMIN, (unit,))
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return client, f"Bearer {services.tokens.issue(uid)}"


def test_list_page_and_api_answer_every_parameter_mix(unit_admin: tuple[FlaskClient, str], unit: Unit,
                                                      other_unit: Unit) -> None:
    client, token = unit_admin

    @PROPERTY
    @given(params=query([unit.code, other_unit.code, "555", "54", "999"]))
    def check(params: dict[str, str]) -> None:
        page = client.get("/mailboxes", query_string=params)
        assert page.status_code in ALLOWED, (params, page.status_code)
        if page.status_code == 200:
            assert "Trang " in page.get_data(as_text=True)
        api = client.get("/api/v1/mailboxes", query_string=params, headers={"Authorization": token})
        assert api.status_code in ALLOWED, (params, api.status_code, api.get_data(as_text=True))
        data = api.get_json()
        if api.status_code == 200:
            assert isinstance(data["items"], list) and isinstance(data["total"], int)
        else:
            assert data["error"] and data["error_vi"] and data["status"] == api.status_code

    check()
