"""The mailbox list sorts by its columns (issue 12), in the web page and the API, keeping filters and paging."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import CHROMIUM, sign_in

STAFF = (("Trần Văn Bình", "NS-300"), ("Lê Thị An", "NS-100"), ("Phạm Văn Cường", "NS-200"))


@pytest.fixture
def staff(services: Services, unit: Unit) -> dict[str, str]:
    """Three mailboxes in the unit (one suspended): {full name: uid}."""
    uids = {name: services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code,
                                                    hr_id=f"{hr_id}-{unit.code}")).mailbox.uid
            for name, hr_id in STAFF}
    services.mailboxes.suspend(uids["Phạm Văn Cường"])
    return uids


@pytest.fixture
def token(person: Callable[..., str], services: Services, unit: Unit) -> dict[str, str]:
    """An API token of a super admin."""
    return {"Authorization": f"Bearer {services.tokens.issue(person('Đỗ Văn Khóa', unit, Role.SUPERADMIN))}"}


def names(page: str) -> list[str]:
    """The full names of a list page's rows, in order."""
    return [unescape(n) for n in re.findall(r'<td><a href="/mailboxes/[^"]+">([^<]+)</a></td>', page)]


def test_columns_sort_up_and_down_and_say_so(admin_client: FlaskClient, unit: Unit, staff: dict[str, str]) -> None:
    admin = "Quản Trị Viên"  # the logged-in super admin, in the same unit

    def listed(sort: str) -> list[str]:
        page = admin_client.get("/mailboxes", query_string={"unit": unit.code, "sort": sort})
        assert page.status_code == 200
        return [name for name in names(page.get_data(as_text=True)) if name != admin]
    assert listed("") == ["Lê Thị An", "Trần Văn Bình", "Phạm Văn Cường"]  # given names: An, Bình, Cường
    assert listed("-name") == ["Phạm Văn Cường", "Trần Văn Bình", "Lê Thị An"]
    by_address = sorted(staff, key=lambda name: staff[name])
    assert listed("address") == by_address and listed("-address") == by_address[::-1]
    assert listed("hr_id") == ["Lê Thị An", "Phạm Văn Cường", "Trần Văn Bình"]
    assert listed("-hr_id") == ["Trần Văn Bình", "Phạm Văn Cường", "Lê Thị An"]
    assert listed("status")[-1] == "Phạm Văn Cường"  # active < suspended
    page = admin_client.get("/mailboxes", query_string={"unit": unit.code, "sort": "-hr_id"}).get_data(as_text=True)
    assert re.search(r'aria-sort="descending">\s*<a class="sort" id="sort-hr_id"', page)
    assert page.count('aria-sort="none"') == 3  # name, address, status; the unit column is not sortable


def test_sort_links_keep_search_filters_and_paging(admin_client: FlaskClient, unit: Unit,
                                                   staff: dict[str, str]) -> None:
    params = {"unit": unit.code, "q": "van", "status": "active", "sort": "-address"}
    page = admin_client.get("/mailboxes", query_string=params).get_data(as_text=True)
    name_link = unescape(re.search(r'id="sort-name" href="([^"]+)"', page).group(1))
    assert {k: v[0] for k, v in parse_qs(urlsplit(name_link).query).items()} == {
        "unit": unit.code, "q": "van", "status": "active"}  # by name: the default, no sort parameter
    address_link = unescape(re.search(r'id="sort-address" href="([^"]+)"', page).group(1))
    assert parse_qs(urlsplit(address_link).query)["sort"] == ["address"]  # second click: ascending again
    assert '<input type="hidden" name="sort" value="-address">' in page  # the search form keeps the order
    assert 'name="back" value="/mailboxes?' in page and "sort=-address" in unescape(
        re.search(r'name="back" value="([^"]+)"', page).group(1))  # the bulk action comes back to it
    assert names(page) == ["Trần Văn Bình"]  # "van", active only


def test_a_crafted_sort_gives_the_default_order(admin_client: FlaskClient, unit: Unit, staff: dict[str, str],
                                                token: dict[str, str]) -> None:
    default = names(admin_client.get("/mailboxes", query_string={"unit": unit.code}).get_data(as_text=True))
    for crafted in ("objectClass", "-", "--name", "uid)(objectClass=*", "userPassword", "x" * 5000, "name\x00",
                    "maSortKey:caseExactOrderingMatch", "-userPassword"):
        page = admin_client.get("/mailboxes", query_string={"unit": unit.code, "sort": crafted})
        assert page.status_code == 200 and names(page.get_data(as_text=True)) == default, crafted
        api = admin_client.get("/api/v1/mailboxes", query_string={"unit": unit.code, "sort": crafted}, headers=token)
        assert api.status_code == 200, crafted


def test_the_api_sorts_and_pages_the_same_way(admin_client: FlaskClient, unit: Unit, staff: dict[str, str],
                                              token: dict[str, str]) -> None:
    def uids(**params: str) -> list[str]:
        answer = admin_client.get("/api/v1/mailboxes", query_string={"unit": unit.code, **params}, headers=token)
        assert answer.status_code == 200
        return [item["uid"] for item in answer.get_json()["items"]]
    by_hr_id = [staff[name] for name in ("Lê Thị An", "Phạm Văn Cường", "Trần Văn Bình")]
    assert [uid for uid in uids(sort="hr_id") if uid in by_hr_id] == by_hr_id
    assert [uid for uid in uids(sort="-hr_id") if uid in by_hr_id] == by_hr_id[::-1]
    pages = [uids(sort="-name", offset=str(offset), limit="2") for offset in (0, 2, 4)]
    assert [uid for page in pages for uid in page] == uids(sort="-name")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")
def test_sorting_by_a_header_in_a_phone_browser(page: object, base_url: str, person: Callable[..., str],
                                                unit: Unit, staff: dict[str, str]) -> None:
    """Two clicks on a header sort down; the sorted page still fits 390 px."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base_url, person("Nguyễn Thị Duyệt", unit, Role.SUPERADMIN))
    page.goto(f"{base_url}/mailboxes?unit={unit.code}")
    page.click("#sort-hr_id")
    page.click("#sort-hr_id")
    assert "sort=-hr_id" in page.url and f"unit={unit.code}" in page.url
    assert page.get_attribute("th[aria-sort='descending'] a", "id") == "sort-hr_id"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
