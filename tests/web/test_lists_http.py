"""Distribution lists: per-unit and custom lists, members by uid, membership survives moves and renames."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


def test_custom_list_members_follow_moves_and_renames(admin_client: FlaskClient, person: Callable[..., str],
                                                      unit: Unit, other_unit: Unit, services: Services) -> None:
    first, second = person("Lương Văn Nhất", unit), person("Lương Thị Nhì", unit)
    token = csrf_token(admin_client, f"/lists?unit={unit.code}")
    name = f"bantin{unit.code.lower()}"
    admin_client.post("/lists/new", data={"csrf_token": token, "unit": unit.code, "name": name,
                                          "description": "Bản tin", "members": first})
    admin_client.post(f"/lists/{unit.code}/{name}/members", data={"csrf_token": token, "uid": second})
    assert {m.uid for m in services.lists.members(unit.code, name)} == {first, second}
    services.mailboxes.move(second, other_unit.code)
    services.units.rename(unit.code, "Đơn vị đã đổi tên")
    members = services.lists.members(unit.code, name)
    assert {m.uid for m in members} == {first, second}
    assert {m.unit_code for m in members if m.uid == second} == {other_unit.code}
    page = admin_client.get(f"/lists/{unit.code}/{name}").get_data(as_text=True)
    assert "Lương Thị Nhì" in page and f"{name}@phuyen.gov.vn" in page
    admin_client.post(f"/lists/{unit.code}/{name}/members/{first}/remove", data={"csrf_token": token})
    assert [m.uid for m in services.lists.members(unit.code, name)] == [second]
    admin_client.post(f"/lists/{unit.code}/{name}/members/{second}/remove", data={"csrf_token": token})
    assert [m.uid for m in services.lists.members(unit.code, name)] == [second]  # never empty


def test_unit_list_holds_the_units_active_staff(admin_client: FlaskClient, person: Callable[..., str],
                                                unit: Unit, services: Services) -> None:
    staff = {person("Mạc Văn Một", unit), person("Mạc Văn Hai", unit)}
    gone = person("Mạc Văn Nghỉ", unit)
    services.mailboxes.suspend(gone)
    admin_client.post("/lists/new", data={"csrf_token": csrf_token(admin_client, "/lists"), "unit": unit.code,
                                          "kind": "unit"})
    members = {m.uid for m in services.lists.members(unit.code, f"ds-{unit.code.lower()}")}
    assert staff <= members and gone not in members


def test_unit_admin_cannot_touch_other_units_lists(admin_client: FlaskClient, unit_admin_client: FlaskClient,
                                                   person: Callable[..., str], unit: Unit, other_unit: Unit,
                                                   services: Services) -> None:
    outsider = person("Ngoài Danh Sách", other_unit)
    services.lists.create(other_unit.code, f"khac{other_unit.code.lower()}", "", [outsider])
    name = f"khac{other_unit.code.lower()}"
    token = csrf_token(unit_admin_client, "/lists")
    assert unit_admin_client.get(f"/lists?unit={other_unit.code}").status_code == 403
    assert unit_admin_client.get(f"/lists/{other_unit.code}/{name}").status_code == 403
    mine = person("Trong Danh Sách", unit)
    for path, data in ((f"/lists/{other_unit.code}/{name}/members", {"uid": mine}),
                       (f"/lists/{other_unit.code}/{name}/members/{outsider}/remove", {}),
                       ("/lists/new", {"unit": other_unit.code, "name": "xx", "members": mine}),
                       ("/lists/new", {"unit": unit.code, "name": "yy", "members": outsider})):
        assert unit_admin_client.post(path, data={"csrf_token": token, **data}).status_code == 403, path
    assert [m.uid for m in services.lists.members(other_unit.code, name)] == [outsider]


def test_lists_through_the_api(client: FlaskClient, person: Callable[..., str], unit: Unit, other_unit: Unit,
                               services: Services) -> None:
    from mailadmin.model import Role
    headers = {"Authorization": f"Bearer {services.tokens.issue(person('Đọc Danh Sách', unit, Role.AUDITOR))}"}
    member = person("Thành Viên API", unit)
    services.lists.create(unit.code, f"api{unit.code.lower()}", "", [member])
    items = client.get("/api/v1/lists", query_string={"unit": unit.code}, headers=headers).get_json()["items"]
    assert [item["name"] for item in items] == [f"api{unit.code.lower()}"]
    detail = client.get(f"/api/v1/lists/{unit.code}/api{unit.code.lower()}", headers=headers).get_json()
    assert [m["uid"] for m in detail["members"]] == [member]
    other_admin = person("Quản Lý Khác", other_unit, Role.UNITADMIN, (other_unit,))
    unit_admin = {"Authorization": f"Bearer {services.tokens.issue(other_admin)}"}
    assert client.get("/api/v1/lists", query_string={"unit": unit.code}, headers=unit_admin).status_code == 403
