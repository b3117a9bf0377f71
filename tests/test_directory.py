"""The directory layer against a real slapd: schema, overlays, password schemes, paging, escaping."""

from __future__ import annotations

import pytest
from passlib.hash import argon2, ldap_salted_sha1, ldap_salted_sha512, sha512_crypt

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.errors import Conflict, DirectoryError, InvalidInput
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory


def person(uid: str, unit: Unit, base: str, **extra: list[str]) -> tuple[str, dict[str, list[str]]]:
    """A minimal valid mailbox entry, written straight through the client."""
    attributes = {
        "objectClass": ["inetOrgPerson", "inetLocalMailRecipient", "maMailbox"],
        "uid": [uid], "cn": [f"Nguyễn Văn {uid}"], "sn": ["Nguyễn"], "givenName": [uid],
        "mail": [f"{uid}@phuyen.gov.vn"], "maAccountStatus": ["active"], "maTier": ["province"],
    }
    attributes.update(extra)
    return dit.mailbox_dn(uid, unit.path, base), attributes


def test_schema_accepts_a_mailbox_with_vietnamese_names(services: Services, unit: Unit) -> None:
    dn, attributes = person("schemaok", unit, services.client.base_dn, maMailQuota=["2048"],
                            title=["Phó Trưởng phòng"], mailLocalAddress=["schema.ok@phuyen.gov.vn"])
    services.client.add(dn, attributes)
    entry = services.client.get(dn)
    assert entry is not None and entry.text("cn") == "Nguyễn Văn schemaok"
    assert entry.text("title") == "Phó Trưởng phòng"


@pytest.mark.parametrize("broken", [
    {"maTier": []},                              # required by maMailbox
    {"maMailQuota": ["hai gigabyte"]},           # integer syntax
    {"maRetainUntil": ["next year"]},            # generalized time syntax
    {"noSuchAttribute": ["x"]},                  # not in any schema
])
def test_schema_rejects_bad_entries(services: Services, unit: Unit, broken: dict[str, list[str]]) -> None:
    dn, attributes = person("schemabad", unit, services.client.base_dn, **broken)
    with pytest.raises(InvalidInput):
        services.client.add(dn, attributes)
    assert services.client.get(dn) is None


def test_unique_overlay_refuses_a_duplicate_mail_anywhere_in_the_tree(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    services.client.add(*person("uniq1", unit, base))
    with pytest.raises(Conflict):
        services.client.add(*person("uniq2", unit, base, mail=["uniq1@phuyen.gov.vn"]))
    elsewhere = services.units.get("555")  # another subtree: uid must still be unique
    with pytest.raises(Conflict):
        services.client.add(*person("uniq1", elsewhere, base, mail=["uniq3@phuyen.gov.vn"]))
    assert services.client.search(base, "(|(uid=uniq2)(mail=uniq3@phuyen.gov.vn))") == []


def test_unique_overlay_refuses_an_alias_equal_to_another_alias(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    services.client.add(*person("alias1", unit, base, mailLocalAddress=["phongtccb@phuyen.gov.vn"]))
    with pytest.raises(Conflict):
        services.client.add(*person("alias2", unit, base, mailLocalAddress=["phongtccb@phuyen.gov.vn"]))


@pytest.mark.parametrize("scheme", ["ssha", "ssha512", "crypt-sha512", "argon2id"])
def test_bind_verifies_each_stored_scheme(services: Services, unit: Unit, scheme: str) -> None:
    password = "Mật-khẩu đủ dài 2026"
    stored = {
        "ssha": ldap_salted_sha1.hash(password),
        "ssha512": ldap_salted_sha512.hash(password),
        "crypt-sha512": "{CRYPT}" + sha512_crypt.using(rounds=5000).hash(password),
        "argon2id": "{ARGON2}" + argon2.using(type="ID", time_cost=1, memory_cost=8192).hash(password),
    }[scheme]
    dn, attributes = person(f"scheme{scheme.replace('-', '')}", unit, services.client.base_dn,
                            userPassword=[stored])
    services.client.add(dn, attributes)
    assert services.client.check_password(dn, password)
    assert not services.client.check_password(dn, password + "x")
    assert not services.client.check_password(dn, "")


def test_paged_search_returns_every_entry_past_the_500_size_limit(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    entries = [person(f"paged{i:04d}", unit, base) for i in range(1234)]
    assert services.client.add_many(entries) == []
    unit_dn = dit.unit_dn(unit.path, base)
    found = services.client.search(unit_dn, filters.eq("objectClass", "maMailbox"), attributes=["uid"])
    assert len(found) == 1234
    assert len({entry.text("uid") for entry in found}) == 1234


def test_a_truncated_result_raises_instead_of_returning_500(directory: RunningDirectory, unit: Unit) -> None:
    """Any account without our `limits` line hits slapd's default 500: we refuse the partial answer."""
    services = directory.services
    base = services.client.base_dn
    entries = [person(f"trunc{i:04d}", unit, base) for i in range(600)]
    entries[0][1]["userPassword"] = ["Mot-mat-khau-dai-2026"]
    assert services.client.add_many(entries) == []
    ordinary = DirectoryClient(DirectoryConfig(services.client.config.uris, base, entries[0][0],
                                               "Mot-mat-khau-dai-2026", page_size=1000))
    try:
        with pytest.raises(DirectoryError, match="size limit"):
            ordinary.search(dit.unit_dn(unit.path, base), "(uid=trunc*)", attributes=["uid"])
    finally:
        ordinary.close()


@pytest.mark.parametrize("hostile", ["*)(uid=*", "*", "\\", "a\x00b", "(", ")(objectClass=*", "x" * 5000])
def test_filter_values_are_escaped(services: Services, unit: Unit, hostile: str) -> None:
    services.client.add(*person(f"esc{abs(hash(hostile)) % 100000}", unit, services.client.base_dn))
    found = services.client.search(services.client.base_dn, filters.eq("uid", hostile), attributes=["uid"])
    assert found == []


def test_dn_values_are_escaped(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    tricky = Unit("A,B=C+D", "Đơn vị có dấu phẩy", unit.kind, (*unit.path, "A,B=C+D"))
    services.units.store.add(tricky)
    entry = services.client.get(dit.unit_dn(tricky.path, base))
    assert entry is not None
    assert dit.unit_path_of(entry.dn, base) == tricky.path


def test_add_many_writes_good_entries_around_a_bad_one(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    services.client.add(*person("bulkdup", unit, base))
    entries = [person(f"bulk{i}", unit, base) for i in range(5)]
    entries.insert(3, person("bulkdup", unit, base))  # already exists: refused
    seen: list[tuple[str, bool]] = []
    failures = services.client.add_many(entries, lambda dn, error: seen.append((dn, error is None)))
    assert [failure.dn for failure in failures] == [entries[3][0]]
    assert isinstance(failures[0].error, Conflict)
    assert len(seen) == 6 and sum(ok for _, ok in seen) == 5
    assert all(services.client.get(dn) is not None for dn, _ in entries)


def test_bulk_batches_commit_in_order_and_refused_ones_are_replayed(services: Services, unit: Unit) -> None:
    """A batch is sent while the one before commits: the earlier batch still wins, outcomes come in order."""
    base = services.client.base_dn
    services.client.add(*person("ordc0", unit, base))
    entries = [person("orda0", unit, base), person("orda1", unit, base),
               person("ordb0", unit, base, mail=["orda0@phuyen.gov.vn"]), person("ordb1", unit, base),
               person("ordc0", unit, base), person("ordc1", unit, base),
               person("ordd0", unit, base), person("ordd1", unit, base), person("orde0", unit, base)]
    seen: list[tuple[str, bool]] = []
    failures = services.client.add_many(entries, lambda dn, error: seen.append((dn, error is None)), batch_size=2)
    assert [failure.dn for failure in failures] == [entries[2][0], entries[4][0]]
    assert all(isinstance(failure.error, Conflict) for failure in failures)
    assert seen == [(dn, index not in (2, 4)) for index, (dn, _) in enumerate(entries)]
    assert services.client.get(entries[2][0]) is None  # the later batch lost the address to the earlier one
    assert all(services.client.get(dn) is not None for index, (dn, _) in enumerate(entries) if index != 2)


def test_transactions_are_all_or_nothing(services: Services, unit: Unit) -> None:
    base = services.client.base_dn
    first, second = person("txn1", unit, base), person("txn2", unit, base, mail=["txn1@phuyen.gov.vn"])
    with pytest.raises(Conflict), services.client.transaction() as txn:
        txn.add(*first)
        txn.add(*second)  # duplicate mail inside the same transaction
    assert services.client.get(first[0]) is None
    with services.client.transaction() as txn:
        txn.add(*first)
    assert services.client.get(first[0]) is not None


def test_unique_overlay_refuses_an_alias_equal_to_another_mailboxs_address(services: Services, unit: Unit) -> None:
    """The primary address is stored in mailLocalAddress too, so the overlay sees the clash."""
    base = services.client.base_dn
    services.client.add(*person("cross1", unit, base, mailLocalAddress=["cross1@phuyen.gov.vn"]))
    with pytest.raises(Conflict):
        services.client.add(*person("cross2", unit, base, mailLocalAddress=["cross1@phuyen.gov.vn"]))


def test_bulk_writes_leave_no_thread_behind(services: Services, unit: Unit) -> None:
    """ldap3's ASYNC receiver thread must end with its connection (it once spun at 100 % CPU)."""
    import threading
    import time

    before = set(threading.enumerate())
    for round_number in range(5):
        services.client.add_many([person(f"thread{round_number}", unit, services.client.base_dn)])
    deadline = time.monotonic() + 5
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.05)  # a receiver thread ends when slapd closes the unbound connection
    assert set(threading.enumerate()) - before == set()


def test_one_client_serves_many_threads(services: Services, unit: Unit) -> None:
    """Flask request threads and SMTP workers share one client: no crossed answers, no lost writes."""
    from concurrent.futures import ThreadPoolExecutor

    base = services.client.base_dn

    def work(number: int) -> str:
        dn, attributes = person(f"conc{number}", unit, base)
        services.client.add(dn, attributes)
        found = services.client.search(base, filters.eq("uid", f"conc{number}"), attributes=["uid"])
        return found[0].text("uid")

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(work, range(60)))
    assert results == [f"conc{number}" for number in range(60)]


def test_other_calls_while_iterating_a_paged_search(directory: RunningDirectory, unit: Unit) -> None:
    """A paged-results cookie belongs to one connection: nested calls must not steal it."""
    services = directory.services
    base = services.client.base_dn
    assert services.client.add_many([person(f"nest{i:03d}", unit, base) for i in range(25)]) == []
    small_pages = DirectoryClient(DirectoryConfig(services.client.config.uris, base, services.client.config.bind_dn,
                                                  services.client.config.password, page_size=4))
    try:
        seen = []
        for entry in small_pages.iter_search(dit.unit_dn(unit.path, base), "(uid=nest*)", attributes=["uid"]):
            seen.append(entry.text("uid"))
            assert small_pages.get(entry.dn, ["uid"]) is not None  # a call in the middle of the iteration
        assert sorted(seen) == [f"nest{i:03d}" for i in range(25)]
        first_only = next(small_pages.iter_search(base, "(uid=nest*)", attributes=["uid"]))
        assert first_only.text("uid").startswith("nest")  # abandoning an iteration leaves the pool usable
        assert len(small_pages.search(base, "(uid=nest*)", attributes=["uid"])) == 25
    finally:
        small_pages.close()
