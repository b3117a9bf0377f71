"""A bulk job's resume and undo check the rights on every mailbox it has yet to write (or put back) as it is now:
read in a search per 200 uids, as the selection is, not one search per mailbox (at ~10,000 mailboxes a long wait)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailadmin.importer.journal import Job
from mailadmin.model import Role, Status, Unit
from mailadmin.services.mailboxes import MailboxQuery, NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login

SEARCH_OPERATIONS = "cn=Search,cn=Operations,cn=Monitor"
MAILBOXES = 60
GIVEN = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam", "Oanh", "Phúc")


def searches_begun(services: Services) -> int:
    """Searches slapd has begun so far (cn=Monitor). Initiated, not completed: a search is counted as begun
    before it is answered, so every search answered before this read is in it (and this read itself)."""
    entry = services.client.get(SEARCH_OPERATIONS, ["monitorOpInitiated"])
    assert entry is not None
    return int(entry.text("monitorOpInitiated"))


def searches_of(services: Services, request: Callable[[], int]) -> int:
    """The searches one request made (the reading of the count aside), and that it was refused (403)."""
    before = searches_begun(services)
    assert request() == 403
    return searches_begun(services) - before - 1


@pytest.fixture
def unit_admin(app: Flask, person: Callable[..., str], unit: Unit) -> tuple[str, FlaskClient]:
    """A unit admin of `unit`, and their logged-in client."""
    uid = person("Đinh Quản Lý Hàng Loạt", unit, Role.UNITADMIN, (unit,))
    client = app.test_client()
    assert login(client, uid).status_code == 302
    return uid, client


def many(services: Services, unit: Unit, family: str) -> list[str]:
    """MAILBOXES new mailboxes in `unit`, their uids."""
    requests = [NewMailbox(full_name=f"{family} {middle} {name}", unit_code=unit.code)
                for middle in ("Văn", "Thị", "Hữu", "Minh", "Ngọc") for name in GIVEN][:MAILBOXES]
    assert services.mailboxes.add_many(requests) == []
    return [m.uid for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code)) if m.name.family == family]


def planned(services: Services, owner: str, uids: list[str]) -> Job:
    """A suspension of `uids` by `owner`, journaled, nothing written yet."""
    selection = services.bulk.select(services.principal(owner), "suspend", services.bulk.chosen(uids))
    return services.bulk.start(selection, owner=owner)[0]


def test_a_resume_reads_the_rights_of_its_mailboxes_in_one_search(
        unit_admin: tuple[str, FlaskClient], unit: Unit, other_unit: Unit, services: Services) -> None:
    owner, client = unit_admin
    uids = many(services, unit, "Lạc")
    assert len(uids) == MAILBOXES
    job = planned(services, owner, uids)
    services.mailboxes.move(uids[-1], other_unit.code)  # now out of the unit admin's scope: the resume is refused
    token = csrf_token(client, f"/mailboxes/bulk/{job.id}")
    spent = searches_of(services, lambda: client.post(f"/mailboxes/bulk/{job.id}/resume",
                                                      data={"csrf_token": token}).status_code)
    assert spent < 10, f"{spent} searches for {MAILBOXES} mailboxes"
    assert job.state == "planned" and {services.mailboxes.get(uid).status for uid in uids} == {Status.ACTIVE}


def test_an_undo_reads_the_rights_of_its_mailboxes_in_one_search(
        unit_admin: tuple[str, FlaskClient], unit: Unit, other_unit: Unit, services: Services) -> None:
    owner, client = unit_admin
    uids = many(services, unit, "Lò")
    job = planned(services, owner, uids)
    assert services.bulk.apply(job)["done"] == MAILBOXES
    services.mailboxes.move(uids[0], other_unit.code)
    token = csrf_token(client, f"/mailboxes/bulk/{job.id}")
    spent = searches_of(services, lambda: client.post(f"/mailboxes/bulk/{job.id}/undo",
                                                      data={"csrf_token": token}).status_code)
    assert spent < 10, f"{spent} searches for {MAILBOXES} mailboxes"
    assert job.state == "done" and {services.mailboxes.get(uid).status for uid in uids} == {Status.SUSPENDED}


def test_an_undo_reads_what_changed_since_in_one_search(
        unit_admin: tuple[str, FlaskClient], unit: Unit, services: Services) -> None:
    owner, client = unit_admin
    uids = many(services, unit, "Lư")
    job = planned(services, owner, uids)
    assert services.bulk.apply(job)["done"] == MAILBOXES
    services.mailboxes.resume(uids[0])  # changed since: left alone and reported
    token = csrf_token(client, f"/mailboxes/bulk/{job.id}")
    before = searches_begun(services)
    assert client.post(f"/mailboxes/bulk/{job.id}/undo", data={"csrf_token": token}).status_code == 302
    spent = searches_begun(services) - before - 1
    # The engine still recognises, mailbox by mailbox, an undo already made (importer/engine.py, _skip_effective):
    # one search each. Whether each mailbox changed since is read with the rights, in a search per 200 uids.
    assert spent < MAILBOXES + 10, f"{spent} searches for {MAILBOXES} mailboxes"
    assert job.state == "undone" and job.outcomes("undo.log")[0] != "ok"
    assert {services.mailboxes.get(uid).status for uid in uids} == {Status.ACTIVE}
