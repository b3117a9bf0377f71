"""The JSON API: bearer tokens, the same role and scope checks as the pages, JSON errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login


@pytest.fixture
def token_of(app: Flask, services: Services) -> Callable[[str], dict[str, str]]:
    def make(uid: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {services.tokens.issue(uid)}"}
    return make


def test_token_from_the_self_service_page_works_once_shown(app: Flask, person: Callable[..., str],
                                                           unit: Unit) -> None:
    client = app.test_client()
    login(client, person("Lập Trình Viên", unit, Role.AUDITOR))
    page = client.post("/me/token", data={"csrf_token": csrf_token(client, "/me")},
                       follow_redirects=True).get_data(as_text=True)
    token = page.split('id="token">')[1].split("<")[0]
    assert f"Authorization: Bearer <span id=\"token\">{token}</span>" in page  # the header, token included
    assert 'id="token"' not in client.get("/me/token").get_data(as_text=True)  # F5: shown once
    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["roles"] == ["auditor"]
    assert api.get("/api/v1/me", headers={"Authorization": "Bearer ma_sai"}).status_code == 401
    assert api.get("/api/v1/mailboxes").status_code == 401


def test_admin_lists_creates_and_suspends(client: FlaskClient, person: Callable[..., str], unit: Unit,
                                          token_of: Callable[[str], dict[str, str]], services: Services) -> None:
    headers = token_of(person("Quản Trị API", unit, Role.SUPERADMIN))
    created = client.post("/api/v1/mailboxes", json={"full_name": "Tạ Văn Máy", "unit": unit.code},
                          headers=headers)
    assert created.status_code == 201 and created.get_json()["initial_password"]
    uid = created.get_json()["mailbox"]["uid"]
    listing = client.get("/api/v1/mailboxes", query_string={"unit": unit.code, "q": "ta van may"},
                         headers=headers).get_json()
    assert [item["uid"] for item in listing["items"]] == [uid] and listing["total"] == 1
    assert client.post(f"/api/v1/mailboxes/{uid}/suspend", headers=headers).get_json()["status"] == "suspended"
    assert services.mailboxes.get(uid).status is Status.SUSPENDED
    units = client.get("/api/v1/units", headers=headers).get_json()["items"]
    assert {"code": unit.code, "name": unit.name, "kind": "agency", "parent": "54"} in units


def test_unit_admin_token_is_held_to_its_unit(client: FlaskClient, person: Callable[..., str], unit: Unit,
                                              other_unit: Unit, token_of: Callable[[str], dict[str, str]],
                                              services: Services) -> None:
    headers = token_of(person("Quản Lý API", unit, Role.UNITADMIN, (unit,)))
    outsider = person("Ngoài Phạm Vi", other_unit)
    assert client.get(f"/api/v1/mailboxes/{outsider}", headers=headers).status_code == 403
    assert client.get("/api/v1/mailboxes", query_string={"unit": other_unit.code}, headers=headers).status_code == 403
    for action in ("suspend", "retire", "password", "move"):
        response = client.post(f"/api/v1/mailboxes/{outsider}/{action}", json={"unit": unit.code}, headers=headers)
        assert response.status_code == 403 and "error" in response.get_json(), action
    refused = client.post("/api/v1/mailboxes", json={"full_name": "X Y", "unit": other_unit.code}, headers=headers)
    assert refused.status_code == 403
    assert services.mailboxes.get(outsider).status is Status.ACTIVE
    codes = {u["code"] for u in client.get("/api/v1/units", headers=headers).get_json()["items"]}
    assert codes == {unit.code}


@pytest.mark.parametrize("text", ["*)(uid=*", "\\", "a\x00b", "x" * 5000])
def test_api_search_injection_finds_nothing(client: FlaskClient, person: Callable[..., str], unit: Unit,
                                            token_of: Callable[[str], dict[str, str]], text: str) -> None:
    headers = token_of(person("Quản Trị Tiêm", unit, Role.SUPERADMIN))
    response = client.get("/api/v1/mailboxes", query_string={"unit": unit.code, "q": text}, headers=headers)
    assert response.status_code == 200 and response.get_json()["total"] == 0
    assert client.get("/api/v1/mailboxes", query_string={"limit": "x"}, headers=headers).status_code == 400


def test_openapi_file_names_every_api_route(app: Flask) -> None:
    import yaml

    from mailadmin.resources import project_path
    spec = yaml.safe_load(project_path("docs", "openapi.yaml").read_text(encoding="utf-8"))
    documented = {"/api/v1" + path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    assert routes == documented
