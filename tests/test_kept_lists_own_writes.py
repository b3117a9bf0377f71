"""Kept sorted lists take in the service's own writes (no new sort) and never show what a fresh sort would not.

The property interleaves own writes (adds, sort-key changes, status changes, moves in and out,
deletes), writes by another client (another process's DirectoryClient: its writes are foreign to
ours) and page reads of several lists, and compares every page with a fresh server-side sort.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mailboxes import IS_MAILBOX, SORT_KEYS, list_order
from mailadmin.model import Unit
from mailadmin.names import search_key, sort_key, split_name
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import make_agency, writes_counted

NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Văn An", "Nguyễn Văn An", "Phạm Thị Đào", "Hồ Văn Đức",
         "Đặng Thị Ánh", "Vũ Văn Hùng", "Vũ Văn Hưng", "Ngô Thị Yến")
REVERSED = tuple(f"-{key}" for key in SORT_KEYS)
PROPERTY = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_serial = itertools.count()


@pytest.fixture
def others(services: Services) -> Iterator[tuple[DirectoryClient, DirectoryClient]]:
    """Another process's client (its writes are foreign to ours) and one that sorts every page afresh."""
    foreign = DirectoryClient(services.client.config)
    fresh = DirectoryClient(replace(services.client.config, kept_lists=0))
    yield foreign, fresh
    foreign.close()
    fresh.close()


def lists(base: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """The lists the property reads: all, active only, a search; by name, name descending, status, HR id descending."""
    active = filters.all_of(IS_MAILBOX, filters.eq("maAccountStatus", "active"))
    search = filters.all_of(IS_MAILBOX, filters.contains("maSearchName", "van"))
    return [(base, IS_MAILBOX, SORT_KEYS), (base, active, SORT_KEYS), (base, search, SORT_KEYS),
            (base, IS_MAILBOX, REVERSED), (base, IS_MAILBOX, list_order("status")),
            (base, IS_MAILBOX, list_order("hr_id", descending=True))]  # HR ids missing on most: first


def page(client: DirectoryClient, listing: tuple[str, str, tuple[str, ...]], offset: int,
         count: int) -> tuple[list[str], int]:
    entries, total = client.window(*listing, offset, count, ("uid", "maSortKey"))
    return [entry.dn.lower() for entry in entries], total


def add(services: Services, unit: Unit, name: str, hr_id: str = "") -> str:
    return services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, hr_id=hr_id)).mailbox.uid


def dn_of(services: Services, uid: str) -> str:
    return services.mailboxes.store.find_entry(uid).dn


operations = st.lists(st.tuples(
    st.sampled_from(["add", "rename", "suspend", "resume", "move_out", "move_in", "delete",
                     "foreign_add", "foreign_rename", "foreign_delete", "read"]),
    st.integers(0, 50), st.integers(0, 9)), min_size=4, max_size=14)


@PROPERTY
@given(steps=operations)
def test_every_page_after_own_and_foreign_writes_is_a_fresh_sort(
        services: Services, others: tuple[DirectoryClient, DirectoryClient], steps: list[tuple[str, int, int]]) -> None:
    foreign, fresh = others
    home = make_agency(services, "P", "Đơn vị danh sách")
    away = make_agency(services, "Q", "Đơn vị bên ngoài")
    inside = [add(services, home, NAMES[i % len(NAMES)], f"HR{i % 4}-{home.code}-{i}" if i % 3 else "")
              for i in range(12)]
    outside = [add(services, away, NAMES[i]) for i in range(3)]
    listings = lists(dit.unit_dn(home.path, services.client.base_dn))
    for listing in listings:
        page(services.client, listing, 0, 5)  # every list kept before the writes begin
    for action, pick, name in steps:
        apply(services, foreign, home, away, inside, outside, action, pick, NAMES[name])
        for number, listing in enumerate(listings):
            offset = (pick + 3 * number) % 16
            assert page(services.client, listing, offset, 6) == page(fresh, listing, offset, 6), (action, listing)


def apply(services: Services, foreign: DirectoryClient, home: Unit, away: Unit, inside: list[str],
          outside: list[str], action: str, pick: int, name: str) -> None:
    """One write (or none, for 'read') through our services/client or through another client."""
    client = foreign if action.startswith("foreign_") else services.client
    kind = action.removeprefix("foreign_")
    if kind == "add":
        if client is foreign:
            uid = f"ngoai{next(_serial)}"
            foreign.add(dit.mailbox_dn(uid, home.path, foreign.base_dn), foreign_entry(uid, name))
            inside.append(uid)
        else:
            inside.append(add(services, home, name))
    elif kind == "move_in" and outside:
        uid = outside.pop(pick % len(outside))
        services.mailboxes.move(uid, home.code)
        inside.append(uid)
    elif kind == "read" or not inside:
        return
    else:
        uid = inside[pick % len(inside)]
        change(services, client, away, inside, outside, kind, uid, name)


def change(services: Services, client: DirectoryClient, away: Unit, inside: list[str], outside: list[str],
           kind: str, uid: str, name: str) -> None:
    if kind == "rename":
        client.modify(dn_of(services, uid), {"maSortKey": ("replace", [sort_key(split_name(name))])})
    elif kind in ("suspend", "resume"):
        getattr(services.mailboxes, kind)(uid)
    elif kind == "move_out":
        services.mailboxes.move(uid, away.code)
        inside.remove(uid)
        outside.append(uid)
    elif kind == "delete":
        client.delete(dn_of(services, uid))
        inside.remove(uid)


def foreign_entry(uid: str, name: str) -> dict[str, list[str]]:
    person = split_name(name)
    return {"objectClass": ["inetOrgPerson", "maMailbox"], "uid": [uid], "cn": [name],
            "sn": [person.family or name], "mail": [f"{uid}@phuyen.gov.vn"], "maAccountStatus": ["active"],
            "maTier": ["province"], "maSortKey": [sort_key(person)], "maSearchName": [search_key(name)]}


def test_own_writes_keep_the_list_and_a_foreign_write_sorts_it_again(
        services: Services, unit: Unit, others: tuple[DirectoryClient, DirectoryClient]) -> None:
    foreign, fresh = others
    uids = [add(services, unit, name) for name in NAMES[:6]]
    listing = lists(dit.unit_dn(unit.path, services.client.base_dn))[0]
    writes_counted(services.client)  # a list kept at an unsettled stamp would be sorted again below
    page(services.client, listing, 0, 4)
    sorts = services.client.sorts
    new = add(services, unit, "Lý Thị Ánh")
    services.mailboxes.suspend(uids[0])
    services.client.modify(dn_of(services, uids[1]), {"maSortKey": ("replace", [sort_key(split_name("A A"))])})
    elsewhere = make_agency(services, "M", "Đơn vị chuyển đến")
    services.mailboxes.move(uids[2], elsewhere.code)
    services.client.delete(dn_of(services, uids[3]))
    writes_counted(services.client)  # taken in once counted; the client's own short wait is not a CI machine's
    for offset in (0, 2, 4):
        assert page(services.client, listing, offset, 3) == page(fresh, listing, offset, 3)
    assert services.client.sorts == sorts  # five own writes, not one new sort
    assert dn_of(services, new).lower() in page(services.client, listing, 0, 10)[0]
    foreign.modify(dn_of(services, uids[4]), {"maSortKey": ("replace", [sort_key(split_name("Z Z"))])})
    assert page(services.client, listing, 0, 10) == page(fresh, listing, 0, 10)
    assert services.client.sorts == sorts + 1  # a write we did not make: sorted again
