"""The ticked mailboxes of a bulk action are read in a search per 200 uids (not one search each), with
every uid escaped: a crafted uid selects nothing but itself, and a uid without a mailbox stops the action."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from mailadmin.errors import NotFound
from mailadmin.model import Status, Unit
from mailadmin.services.mailboxes import MailboxQuery, NewMailbox
from mailadmin.wiring import Services
from tests.web.test_bulk_jobs_http import jobs, list_form

CRAFTED = ("a*)(uid=*", "*", "*)(objectClass=*", "x)(|(uid=*", "\\2a", "a\x00b")


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_uid_selects_nothing_else(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                            services: Services, crafted: str) -> None:
    ticked, bystander = person("Ngô Văn Được Chọn", unit), person("Ngô Văn Đứng Ngoài", unit)
    listed = f"/mailboxes?unit={unit.code}"
    before = jobs(services)
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                                        "uid": [ticked, crafted]})
    assert answer.status_code == 302 and answer.headers["Location"] == listed
    page = admin_client.get(listed).get_data(as_text=True)
    assert "Không có hộp thư" in page  # the crafted uid has no mailbox: said, and nothing done
    assert jobs(services) == before
    assert {services.mailboxes.get(uid).status for uid in (ticked, bystander)} == {Status.ACTIVE}
    with pytest.raises(NotFound):
        services.bulk.chosen([crafted])


def test_a_selection_is_read_whole_in_the_order_ticked(admin_client: FlaskClient, person: Callable[..., str],
                                                       unit: Unit, services: Services) -> None:
    uids = [person(f"Ngô Thị Chọn Nhiều {n}", unit) for n in ("Một", "Hai", "Ba")]
    listed = f"/mailboxes?unit={unit.code}"
    before = jobs(services)
    ticked = [f" {uids[2].upper()} ", uids[0], uids[1], uids[0]]  # as a form may send them: case, spaces, twice
    answer = admin_client.post("/mailboxes/bulk", data={**list_form(admin_client, listed), "action": "suspend",
                                                        "uid": ticked})
    assert answer.status_code == 302
    [job] = jobs(services) - before
    assert [record["subject"] for record in services.bulk.job(job.name).records()] == [uids[2], uids[0], uids[1]]
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.SUSPENDED}


def test_more_uids_than_one_search_holds(services: Services, unit: Unit) -> None:
    requests = [NewMailbox(full_name=f"Mạc {middle} {name}", unit_code=unit.code)
                for middle in ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Đức", "Thanh", "Quốc", "Kim", "Bảo", "Gia")
                for name in ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam",
                             "Oanh", "Phúc", "Quang", "Sơn", "Tâm", "Uyên", "Vân", "Xuân", "Yến")]
    assert len(requests) > 200 and services.mailboxes.add_many(requests) == []
    made = sorted(m.uid for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code)))
    assert len(made) == len(requests)
    chosen = services.bulk.chosen(reversed(made))
    assert [m.uid for m in chosen] == made[::-1]
    assert services.mailboxes.store.locked_binds(made) == {}
    with pytest.raises(NotFound, match="khongco"):
        services.bulk.chosen([*made, "khongco"])
