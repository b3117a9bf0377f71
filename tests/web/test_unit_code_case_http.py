"""Unit codes ignore case, as the directory matches them (ou: caseIgnoreMatch): "abc1" beside "ABC1" is refused
when a unit is created, and a code typed in another case finds the unit everywhere it is looked up."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from mailadmin.directory import dit, filters
from mailadmin.errors import Conflict, InvalidInput
from mailadmin.model import Unit, UnitKind
from mailadmin.services.units import load_units_file
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


def create(client: FlaskClient, parent: Unit, code: str, name: str = "Phòng Trùng Mã") -> str:
    token = csrf_token(client, f"/units/{parent.code}")
    response = client.post(f"/units/{parent.code}/create", data={"csrf_token": token, "code": code, "name": name,
                                                                 "kind": "agency"}, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def units_named(services: Services, code: str) -> list[str]:
    """The DNs of every unit entry whose code matches `code` as the directory compares codes."""
    found = services.client.search(services.client.base_dn, filters.all_of(filters.eq("objectClass", "maUnit"),
                                                                            filters.eq("ou", code)),
                                   attributes=["1.1"])
    return sorted(entry.dn for entry in found)


def test_a_unit_admin_cannot_create_a_code_that_differs_only_by_case(
        unit_admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    before = units_named(services, unit.code)
    page = create(unit_admin_client, unit, unit.code.lower())
    assert "Đã có đơn vị mã" in page and "Traceback" not in page
    assert units_named(services, unit.code) == before


@pytest.mark.parametrize("code", ["stttt", "Stttt", "STTTT"])
def test_a_super_admin_cannot_create_an_official_code_in_another_case(
        admin_client: FlaskClient, unit: Unit, services: Services, code: str) -> None:
    page = create(admin_client, unit, code)
    assert "Đã có đơn vị mã" in page
    assert units_named(services, "STTTT") == [dit.unit_dn(("54", "STTTT"), services.client.base_dn)]


@pytest.mark.parametrize("code", ["stttt", "Stttt"])
def test_the_refusal_names_the_code_the_unit_holds(admin_client: FlaskClient, unit: Unit, code: str) -> None:
    page = create(admin_client, unit, code)
    assert "Đã có đơn vị mã STTTT" in page and f"mã {code}" not in page


def test_the_directory_refuses_a_code_in_another_case_even_when_the_tree_read_is_stale(
        unit: Unit, services: Services) -> None:
    """Another web process (or a tree read up to 30 s ago) does not know the unit: the store asks the server."""
    twin = Unit(code=unit.code.lower(), name="Phòng Song Sinh", kind=UnitKind.AGENCY, path=("54", "STC",
                                                                                           unit.code.lower()))
    with pytest.raises(Conflict) as refused:
        services.units.store.add(twin)
    assert unit.code in refused.value.message.render("en") and unit.code in refused.value.message.render("vi")
    assert units_named(services, unit.code) == [dit.unit_dn(unit.path, services.client.base_dn)]


def test_a_code_in_another_case_finds_the_unit(admin_client: FlaskClient, unit: Unit, services: Services) -> None:
    services.units.forget()
    assert services.units.get(unit.code.lower()) == unit
    assert services.units.index().subtree(unit.code.lower())[0] == unit
    page = admin_client.get(f"/units/{unit.code.lower()}")
    assert page.status_code == 200 and unit.name in page.get_data(as_text=True)


def test_a_unit_list_naming_one_code_in_two_cases_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text("units:\n  - {code: ABC1, name: X, kind: province}\n  - {code: abc1, name: Y, kind: agency}\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput, match="duplicate unit codes: ABC1, abc1"):
        load_units_file(path)
