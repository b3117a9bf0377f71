"""Mailbox pages at HTTP level: list, search, create, lifecycle, reset, and who may do what."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Status, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login


def post(client: FlaskClient, path: str, data: dict | None = None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/mailboxes")})


def test_list_is_sorted_by_given_then_family_name_and_paged(
        admin_client: FlaskClient, person: Callable[..., str], unit: Unit) -> None:
    for name in ("Trần Văn Bình", "Lê Thị An", "Nguyễn Văn An", "Phạm Minh Cường"):
        person(name, unit)
    page = admin_client.get(f"/mailboxes?unit={unit.code}").get_data(as_text=True)
    names = [n for n in ("Lê Thị An", "Nguyễn Văn An", "Trần Văn Bình", "Phạm Minh Cường") if n in page]
    assert names == ["Lê Thị An", "Nguyễn Văn An", "Trần Văn Bình", "Phạm Minh Cường"]
    assert [page.index(n) for n in names] == sorted(page.index(n) for n in names)


def test_search_with_and_without_diacritics(admin_client: FlaskClient, person: Callable[..., str],
                                            unit: Unit) -> None:
    person("Đặng Thị Đào", unit)
    person("Huỳnh Văn Sơn", unit)
    for text in ("Đặng Thị Đào", "dang thi dao", "Đào", "dao"):
        page = admin_client.get("/mailboxes", query_string={"q": text, "unit": unit.code}).get_data(as_text=True)
        assert "Đặng Thị Đào" in page and "Huỳnh Văn Sơn" not in page, text


def test_create_with_suggested_address_shows_password_once(admin_client: FlaskClient, unit: Unit,
                                                           services: Services) -> None:
    suggestion = admin_client.get("/mailboxes/suggest", query_string={"name": "Võ Thị Xuân Mai"}).get_json()
    assert suggestion["address"].startswith("maivtx")
    response = post(admin_client, "/mailboxes/new", {"full_name": "Võ Thị Xuân Mai", "unit": unit.code})
    assert response.status_code == 302  # POST/redirect/GET: F5 on the result creates nothing
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert suggestion["address"] in page and 'id="one-time-password"' in page
    uid = suggestion["address"].split("@")[0]
    assert services.mailboxes.get(uid).unit_code == unit.code
    assert 'id="one-time-password"' not in admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)


def test_suspend_resume_retire_and_bulk(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                        services: Services) -> None:
    first, second = person("Lý Văn Một", unit), person("Lý Văn Hai", unit)
    assert post(admin_client, f"/mailboxes/{first}/status/suspend").status_code == 302
    assert services.mailboxes.get(first).status is Status.SUSPENDED
    post(admin_client, f"/mailboxes/{first}/status/retire")
    assert services.mailboxes.get(first).retain_until is not None
    post(admin_client, "/mailboxes/bulk", {"action": "resume", "uid": [first, second]})
    assert {services.mailboxes.get(uid).status for uid in (first, second)} == {Status.ACTIVE}
    post(admin_client, "/mailboxes/bulk", {"action": "suspend", "uid": [first, second]})
    assert {services.mailboxes.get(uid).status for uid in (first, second)} == {Status.SUSPENDED}


def test_edit_aliases_and_quota(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                services: Services) -> None:
    uid = person("Mai Văn Sửa", unit)
    post(admin_client, f"/mailboxes/{uid}/edit", {"title": "Chuyên viên", "quota_mib": "2048",
                                                  "aliases": f"{uid}.bidanh@phuyen.gov.vn"})
    mailbox = services.mailboxes.get(uid)
    assert (mailbox.title, mailbox.quota_mib, mailbox.aliases) == ("Chuyên viên", 2048,
                                                                   (f"{uid}.bidanh@phuyen.gov.vn",))


def test_unit_admin_is_kept_inside_their_unit(unit_admin_client: FlaskClient, person: Callable[..., str],
                                              unit: Unit, other_unit: Unit, services: Services) -> None:
    mine, theirs = person("Ngô Văn Trong", unit), person("Ngô Văn Ngoai", other_unit)
    assert unit_admin_client.get(f"/mailboxes/{mine}").status_code == 200
    assert unit_admin_client.get(f"/mailboxes/{theirs}").status_code == 403
    assert unit_admin_client.get(f"/mailboxes?unit={other_unit.code}").status_code == 403
    listing = unit_admin_client.get("/mailboxes").get_data(as_text=True)
    assert "Ngô Văn Trong" in listing and "Ngô Văn Ngoai" not in listing
    refused = [post(unit_admin_client, path, data).status_code for path, data in (
        (f"/mailboxes/{theirs}/status/suspend", {}), (f"/mailboxes/{theirs}/password", {}),
        (f"/mailboxes/{theirs}/edit", {"title": "x"}), (f"/mailboxes/{theirs}/move", {"unit": unit.code}),
        (f"/mailboxes/{mine}/move", {"unit": other_unit.code}),
        ("/mailboxes/bulk", {"action": "suspend", "uid": [mine, theirs]}),
        ("/mailboxes/new", {"full_name": "Kẻ Lạ", "unit": other_unit.code}))]
    assert refused == [403] * 7
    assert services.mailboxes.get(theirs).status is Status.ACTIVE
    assert services.mailboxes.get(mine).status is Status.ACTIVE  # the bulk run changed nothing
    assert services.mailboxes.get(mine).unit_code == unit.code
    assert next(services.mailboxes.store.search(conditions=["(cn=Kẻ Lạ)"]), None) is None


def test_a_bulk_action_keeps_the_search(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                        services: Services) -> None:
    """The list came back unfiltered after a bulk action (issue #12); an outside `back` is ignored."""
    uid = person("Mạc Văn Giữ Lọc", unit)
    listed = f"/mailboxes?q=mac+van&unit={unit.code}"
    token = csrf_token(admin_client, listed)
    answer = admin_client.post("/mailboxes/bulk", data={"csrf_token": token, "action": "suspend", "uid": uid,
                                                        "back": listed})
    assert answer.headers["Location"] == listed
    answer = admin_client.post("/mailboxes/bulk", data={"csrf_token": token, "action": "resume", "uid": uid,
                                                        "back": "//evil.example/"})
    assert answer.headers["Location"] == "/mailboxes"


def test_the_list_names_units_and_the_page_offers_only_possible_changes(
        admin_client: FlaskClient, person: Callable[..., str], unit: Unit, services: Services) -> None:
    uid = person("Mạc Văn Đơn Vị", unit)
    listing = admin_client.get(f"/mailboxes?unit={unit.code}").get_data(as_text=True)
    assert f"<td>{unit.name}</td>" in listing and "Mã NS" not in listing
    page = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="resume"' not in page and 'id="suspend"' in page and 'data-confirm="Cho hộp thư này thôi' in page
    services.mailboxes.retire(uid)
    page = admin_client.get(f"/mailboxes/{uid}").get_data(as_text=True)
    assert 'id="resume"' in page and 'id="retire"' not in page and "kept until" not in page


def test_the_list_offers_page_numbers_and_a_jump_keeping_the_filters(admin_client: FlaskClient, unit: Unit,
                                                                     services: Services) -> None:
    """Only prev/next over 138 pages (issue #12): numbered pages around the current one, first, last, a jump."""
    given = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc", "Quang"]
    requests = [NewMailbox(full_name=f"Đỗ {middle} {name}", unit_code=unit.code)
                for middle in ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc", "Kim", "Bảo")
                for name in given * 3][:400]
    assert services.mailboxes.add_many(requests) == []
    page = admin_client.get("/mailboxes", query_string={"unit": unit.code, "page": 5}).get_data(as_text=True)
    pager = page.split('id="pager"')[1].split("</nav>")[0]
    numbers = re.findall(r'class="page-number">(\d+)<', pager)
    assert numbers[0] == "1" and numbers[-1] == "8" and {"3", "4", "6", "7"} <= set(numbers)
    assert 'aria-current="page">5<' in pager and "…" in pager and 'name="page"' in pager
    assert f"unit={unit.code}" in pager and f'name="unit" value="{unit.code}"' in pager  # filters kept


def test_officers_creating_the_same_name_at_once_all_get_a_mailbox(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    """Two HR officers entering the same new colleague at the same moment: each gets the next free
    address (hungnv17, hungnv18…), never a 409 for an address the form never named."""
    admin = person("Quản Trị Đồng Thời", unit, Role.SUPERADMIN)
    clients = []
    for _ in range(6):
        client = app.test_client()
        assert login(client, admin).status_code == 302
        clients.append((client, csrf_token(client, "/mailboxes/new")))
    barrier = threading.Barrier(len(clients))

    def create(client: FlaskClient, csrf: str) -> tuple[int, str]:
        barrier.wait()
        response = client.post("/mailboxes/new", data={"full_name": "Phan Văn Trùng Tên", "unit": unit.code,
                                                        "csrf_token": csrf})
        return response.status_code, response.headers.get("Location", "")

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(lambda pair: create(*pair), clients))
    assert [status for status, _ in answers] == [302] * len(clients), answers
    uids = {location.split("/mailboxes/")[1].split("/")[0] for _, location in answers}
    assert len(uids) == len(clients) and all(services.mailboxes.get(uid).unit_code == unit.code for uid in uids)
