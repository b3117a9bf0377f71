"""Sorted lists slapd keeps between page requests: fast pages that never show a stale list."""

from __future__ import annotations

from mailadmin.directory import dit, filters
from mailadmin.directory.sorted_views import KeptView, SortedViews, Stamp
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, make_agency, writes_counted


def names_in(services: Services, unit: Unit, count: int = 50) -> tuple[list[str], int]:
    """One page of the unit's mailbox list, as the web admin reads it."""
    mailboxes, total = services.mailboxes.store.window(base_dn=dit.unit_dn(unit.path, services.client.base_dn),
                                                       count=count, full=False)
    return [mailbox.name.full for mailbox in mailboxes], total


def add(services: Services, unit: Unit, name: str) -> str:
    return services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code)).mailbox.uid


def test_a_kept_list_is_reused_while_the_directory_is_unchanged(services: Services, unit: Unit) -> None:
    for name in ("Trần Văn Bình", "Lê Thị An"):
        add(services, unit, name)
    writes_counted(services.client)  # else, on a loaded machine, the first list's stamp may be an unsettled one
    kept = services.client._views
    first = names_in(services, unit)
    view_key = next(key for key in kept._views if key[0] == dit.unit_dn(unit.path, services.client.base_dn))
    view = kept._views[view_key]
    assert names_in(services, unit) == first == (["Lê Thị An", "Trần Văn Bình"], 2)
    assert kept._views[view_key] is view  # same server-side list: nothing sorted again


def test_failed_logins_do_not_make_lists_sort_again(services: Services, unit: Unit) -> None:
    """ppolicy writes pwdFailureTime on every failed bind (password guessing against SMTP never
    stops); that internal write is not a client write, so the kept list stays."""
    uid = add(services, unit, "Đoàn Văn Đoán")
    dn = services.mailboxes.store.find_entry(uid).dn
    writes_counted(services.client)  # the add is answered before slapd counts it
    stamp = services.client.change_stamp()
    first = names_in(services, unit)
    view = next(v for k, v in services.client._views._views.items() if k[0].startswith(f"ou={unit.code},"))
    assert not services.client.check_password(dn, "sai-mat-khau")
    assert services.client.get(dn, ["pwdFailureTime"]).text("pwdFailureTime")  # ppolicy did write
    assert services.client.change_stamp() == stamp
    assert names_in(services, unit) == first
    assert next(v for k, v in services.client._views._views.items() if k[0].startswith(f"ou={unit.code},")) is view


def test_a_directory_without_readable_counters_sorts_every_page(services: Services, unit: Unit) -> None:
    from mailadmin.directory.client import DirectoryClient, DirectoryConfig
    add(services, unit, "Hà Văn Một")
    person = add(services, unit, "Hà Thị Hai")
    services.mailboxes.reset_password(person, "Mat-khau-rieng-2026")
    dn = services.mailboxes.store.find_entry(person).dn
    services.mailboxes.store.clear_password_reset(dn)
    own = DirectoryClient(DirectoryConfig(services.client.config.uris, services.client.base_dn, dn,
                                          "Mat-khau-rieng-2026"))
    try:
        assert own.change_stamp() == ""  # cn=Monitor is for the service account only
        entries, total = own.window(dit.unit_dn(unit.path, own.base_dn), "(objectClass=maMailbox)",
                                    ("uid:caseIgnoreOrderingMatch",), 0, 10, ("cn",))
        assert total == 2 and sorted(e.text("cn") for e in entries) == ["Hà Thị Hai", "Hà Văn Một"]
        assert len(own._views) == 0
    finally:
        own.close()


def test_a_kept_list_follows_adds_moves_and_status_changes(services: Services, unit: Unit) -> None:
    """Every write moves the directory's contextCSN: the next page is sorted again, never stale."""
    bình = add(services, unit, "Trần Văn Bình")
    add(services, unit, "Lê Thị Cúc")
    assert names_in(services, unit) == (["Trần Văn Bình", "Lê Thị Cúc"], 2)  # Vietnamese order: given name
    an = add(services, unit, "Phạm Thị An")
    assert names_in(services, unit) == (["Phạm Thị An", "Trần Văn Bình", "Lê Thị Cúc"], 3)
    elsewhere = make_agency(services, "S", "Đơn vị nhận")
    services.mailboxes.move(an, elsewhere.code)
    assert names_in(services, unit) == (["Trần Văn Bình", "Lê Thị Cúc"], 2)
    assert names_in(services, elsewhere) == (["Phạm Thị An"], 1)
    base = dit.unit_dn(unit.path, services.client.base_dn)
    active = [filters.eq("maAccountStatus", "active")]
    assert services.mailboxes.store.window(base_dn=base, conditions=active, full=False)[1] == 2
    services.mailboxes.suspend(bình)
    page, total = services.mailboxes.store.window(base_dn=base, conditions=active, full=False)
    assert [m.name.full for m in page] == ["Lê Thị Cúc"] and total == 1


def test_pages_of_a_kept_list_cut_the_same_sorted_order(services: Services, unit: Unit) -> None:
    for name in ("Đặng Văn Em", "Ngô Thị Gấm", "Vũ Văn Hải", "Lý Thị Ánh", "Hồ Văn Dũng"):
        add(services, unit, name)
    base = dit.unit_dn(unit.path, services.client.base_dn)
    whole, total = names_in(services, unit)
    pages = [services.mailboxes.store.window(base_dn=base, offset=offset, count=2, full=False)
             for offset in (0, 2, 4)]
    assert [m.name.full for page, _ in pages for m in page] == whole and total == 5
    assert whole == ["Lý Thị Ánh", "Hồ Văn Dũng", "Đặng Văn Em", "Ngô Thị Gấm", "Vũ Văn Hải"]


def test_a_list_lost_by_a_restarted_server_is_sorted_again(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    unit = make_agency(services, "R", "Đơn vị khởi động lại")
    add(services, unit, "Mai Văn Sáng")
    assert names_in(services, unit) == (["Mai Văn Sáng"], 1)
    fresh_directory.slapd.stop()
    fresh_directory.slapd.start()
    # Same contextCSN after the restart: only the dead connection tells the list is gone.
    assert names_in(services, unit) == (["Mai Văn Sáng"], 1)
    add(services, unit, "Mai Thị Chiều")
    assert names_in(services, unit) == (["Mai Thị Chiều", "Mai Văn Sáng"], 2)


def test_kept_lists_are_bounded_and_closed_when_stale_or_old() -> None:
    closed: list[str] = []
    now = [0.0]
    views = SortedViews(2, closed.append, max_age=60, clock=lambda: now[0])
    s1, s2 = Stamp({"Add": 1}, {}), Stamp({"Add": 2}, {})
    for name in ("a", "b", "c"):
        views.keep(name, KeptView(f"conn-{name}", b"ctx", s1, 0.0))
    assert len(views) == 2 and closed == ["conn-a"]  # least recently used out
    with views.borrow("b", s1) as view:
        assert view is not None and view.connection == "conn-b"
    with views.borrow("b", s2) as view:  # someone else wrote
        assert view is None
    assert closed == ["conn-a", "conn-b"]
    now[0] = 61.0
    with views.borrow("c", s1) as view:  # unchanged but too old
        assert view is None
    assert closed == ["conn-a", "conn-b", "conn-c"] and len(views) == 0


def test_a_stamp_tells_own_writes_from_others() -> None:
    base = Stamp({"Add": 5, "Modify": 9}, {"Add": 0, "Modify": 2})
    assert base.explains(Stamp({"Add": 6, "Modify": 9}, {"Add": 1, "Modify": 2})) is True
    assert base.explains(Stamp({"Add": 6, "Modify": 10}, {"Add": 1, "Modify": 2})) is False  # a modify not ours
    assert base.explains(Stamp({"Add": 5, "Modify": 9}, {"Add": 1, "Modify": 2})) is None  # ours, not yet counted
    assert base.explains(Stamp({"Add": 5}, {"Add": 0})) is False  # another server's counters
    peers = Stamp({"Add": 5}, {"Add": 0}, {"001": "t1#000000#001#000000", "002": "t1#000000#002#000000"}, "001")
    ours = {"001": "t2#000000#001#000000", "002": "t1#000000#002#000000"}
    assert peers.explains(Stamp({"Add": 6}, {"Add": 1}, ours, "001")) is True  # our server's value moved
    theirs = {"001": "t1#000000#001#000000", "002": "t3#000000#002#000000"}
    assert peers.explains(Stamp({"Add": 5}, {"Add": 0}, theirs, "001")) is False  # replicated: no counter moved


def test_without_kept_lists_every_page_is_sorted_afresh(fresh_directory: RunningDirectory) -> None:
    from dataclasses import replace

    from mailadmin.directory.client import DirectoryClient
    services = fresh_directory.services
    unit = make_agency(services, "K", "Đơn vị không giữ")
    add(services, unit, "Hà Văn Một")
    plain = DirectoryClient(replace(services.client.config, kept_lists=0))
    try:
        entries, total = plain.window(dit.unit_dn(unit.path, plain.base_dn), "(objectClass=maMailbox)",
                                      ("maSortKey:caseExactOrderingMatch",), 0, 10, ("cn",))
        assert [e.text("cn") for e in entries] == ["Hà Văn Một"] and total == 1
        assert len(plain._views) == 0
    finally:
        plain.close()


def test_an_empty_list_is_not_kept(services: Services, unit: Unit) -> None:
    """slapd frees an empty sorted result at once; a kept context for it would only cost a second sort."""
    kept = services.client._views
    base = dit.unit_dn(unit.path, services.client.base_dn)
    for _ in range(2):
        assert services.mailboxes.store.window(base_dn=base, conditions=[filters.eq("maAccountStatus", "retired")],
                                               full=False) == ([], 0)
    assert not any(key[0] == base for key in kept._views)
