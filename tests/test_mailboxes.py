"""Mailbox use cases against the real directory."""

from __future__ import annotations

import pytest

from mailadmin.directory import dit
from mailadmin.errors import Conflict, InvalidInput, NotFound
from mailadmin.model import Status, Tier, Unit
from mailadmin.services.mailboxes import MailboxQuery, NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, eventually


def test_addresses_collide_deterministically_against_the_directory(fresh_directory: RunningDirectory) -> None:
    mailboxes = fresh_directory.services.mailboxes
    first = mailboxes.add(NewMailbox(full_name="Nguyễn Văn Hùng", unit_code="SNV")).mailbox
    assert first.mail == "hungnv@phuyen.gov.vn"
    assert mailboxes.suggest_address("Nguyễn Văn Hưng") == "hungnv1@phuyen.gov.vn"
    second = mailboxes.add(NewMailbox(full_name="Nguyễn Văn Hưng", unit_code="555")).mailbox
    assert second.mail == "hungnv1@phuyen.gov.vn"
    # An alias occupies its address too.
    mailboxes.add(NewMailbox(full_name="Lê Thị Hoa", unit_code="SNV", aliases=("hoalt@phuyen.gov.vn",),
                             mail="hoa.le"))
    assert mailboxes.suggest_address("Lê Thị Hoa") == "hoalt1@phuyen.gov.vn"
    assert mailboxes.suggest_address("Phan Văn Admin") == "adminpv@phuyen.gov.vn"


def test_reserved_and_taken_addresses_are_refused(fresh_directory: RunningDirectory) -> None:
    mailboxes = fresh_directory.services.mailboxes
    with pytest.raises(Conflict):
        mailboxes.add(NewMailbox(full_name="Trần Văn Bưu", unit_code="SNV", mail="postmaster"))
    mailboxes.add(NewMailbox(full_name="Trần Văn Bưu", unit_code="SNV", mail="buu.tran"))
    with pytest.raises(Conflict):
        mailboxes.add(NewMailbox(full_name="Trần Văn Bưu", unit_code="SNV", mail="buu.tran@phuyen.gov.vn"))


def test_created_mailbox_has_every_field_and_the_units_tier(services: Services) -> None:
    created = services.mailboxes.add(NewMailbox(
        full_name="Đặng Thị Đào", unit_code="22015", title="Công chức văn phòng", phone="0257 3823456",
        hr_id="HR-DAO-1", aliases=("vanthu.p1@phuyen.gov.vn",), quota_mib=4096))
    assert created.initial_password and len(created.initial_password) >= 16
    shown = services.mailboxes.get(created.mailbox.uid)
    assert shown.name.full == "Đặng Thị Đào" and shown.name.family == "Đặng" and shown.name.given == "Đào"
    assert shown.mail.startswith("daodt") and shown.mail.endswith("@phuyen.gov.vn")
    assert (shown.unit_code, shown.tier, shown.status) == ("22015", Tier.COMMUNE, Status.ACTIVE)
    assert shown.aliases == ("vanthu.p1@phuyen.gov.vn",)
    assert (shown.title, shown.phone, shown.hr_id, shown.quota_mib) == (
        "Công chức văn phòng", "0257 3823456", "HR-DAO-1", 4096)


@pytest.mark.parametrize(("request_fields", "error", "message"), [
    ({"unit_code": "999"}, NotFound, "no unit with code 999"),
    ({"full_name": "  "}, InvalidInput, "full name is missing"),
    ({"full_name": "Nguyễn\x07 Văn An"}, InvalidInput, "control characters"),
    ({"title": "x" * 200}, InvalidInput, "longer than 128"),
    ({"phone": "gọi tôi"}, InvalidInput, "invalid phone"),
    ({"mail": "an@gmail.com"}, InvalidInput, "not in the domain"),
    ({"mail": "an nv"}, InvalidInput, "invalid local part"),
    ({"aliases": ("x@other.vn",)}, InvalidInput, "not in the domain"),
    ({"password": "ngan"}, InvalidInput, "at least 10"),
])
def test_bad_input_is_refused_and_nothing_is_written(services: Services, unit: Unit, request_fields: dict,
                                                     error: type, message: str) -> None:
    fields = {"full_name": "Bùi Văn Lỗi", "unit_code": unit.code, **request_fields}
    with pytest.raises(error, match=message) as caught:
        services.mailboxes.add(NewMailbox(**fields))
    assert caught.value.message.render("vi") != caught.value.message.render("en")
    assert list(services.mailboxes.find(MailboxQuery(unit_code=unit.code))) == []


def test_search_with_and_without_diacritics(services: Services, unit: Unit) -> None:
    for name in ("Trương Thị Thúy Hằng", "Trương Văn Hăng", "Lâm Quốc Việt"):
        services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, hr_id=f"S-{name[-3:]}"))

    def names(text: str) -> set[str]:
        return {m.name.full for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code, text=text))}

    assert names("Thúy Hằng") == {"Trương Thị Thúy Hằng"}
    assert names("thuy hang") == {"Trương Thị Thúy Hằng"}
    assert names("truong") == {"Trương Thị Thúy Hằng", "Trương Văn Hăng"}
    assert names("viet") == {"Lâm Quốc Việt"}
    assert names("*)(uid=*") == set()


def test_filters_by_tier_and_status(services: Services, unit: Unit) -> None:
    uid = services.mailboxes.add(NewMailbox(full_name="Mai Văn Lọc", unit_code=unit.code)).mailbox.uid
    services.mailboxes.add(NewMailbox(full_name="Mai Thị Lọc", unit_code=unit.code))
    services.mailboxes.suspend(uid)
    suspended = list(services.mailboxes.find(MailboxQuery(unit_code=unit.code, status=Status.SUSPENDED)))
    assert [m.uid for m in suspended] == [uid]
    in_tier = services.mailboxes.find(MailboxQuery(unit_code=unit.code, tier=Tier.DISTRICT))
    assert list(in_tier) == []


def test_move_changes_unit_tier_and_keeps_list_membership(services: Services, unit: Unit) -> None:
    mailbox = services.mailboxes.add(NewMailbox(full_name="Cao Văn Chuyển", unit_code=unit.code)).mailbox
    base = services.client.base_dn
    old_dn = services.mailboxes.store.find_entry(mailbox.uid).dn
    group_dn = f"cn=list-{unit.code},{dit.unit_dn(unit.path, base)}"
    services.client.add(group_dn, {"objectClass": ["groupOfNames"], "cn": [f"list-{unit.code}"],
                                   "member": [old_dn]})
    moved = services.mailboxes.move(mailbox.uid, "558")
    assert (moved.unit_code, moved.tier) == ("558", Tier.DISTRICT)
    new_dn = services.mailboxes.store.find_entry(mailbox.uid).dn
    assert new_dn == dit.mailbox_dn(mailbox.uid, ("54", "558"), base)
    assert services.mailboxes.get(mailbox.uid).tier is Tier.DISTRICT

    def membership_followed() -> None:  # refint rewrites member DNs just after the move returns
        group = services.client.get(group_dn, ["member"])
        assert group is not None and group.texts("member") == [new_dn]
        member = services.client.get(new_dn, ["memberOf"])
        assert member is not None and member.texts("memberOf") == [group_dn]
    eventually(membership_followed)


def test_unknown_mailbox_is_not_found(services: Services) -> None:
    with pytest.raises(NotFound, match="no mailbox khongco"):
        services.mailboxes.suspend("khongco")


def test_an_alias_can_never_equal_another_mailboxs_address(services: Services, unit: Unit) -> None:
    owner = services.mailboxes.add(NewMailbox(full_name="Đoàn Văn Chủ", unit_code=unit.code)).mailbox
    with pytest.raises(Conflict):
        services.mailboxes.add(NewMailbox(full_name="Đoàn Văn Khách", unit_code=unit.code, aliases=(owner.mail,)))
    assert services.mailboxes.get(owner.uid).aliases == ()


def test_pages_come_in_vietnamese_alphabetical_order(services: Services, unit: Unit) -> None:
    """Given name first; ă, â, đ… are letters of their own; tones only break ties."""
    expected = ["Lê Văn An", "Trần Thị Anh", "Lê Thị Ánh", "Phạm Thị Ân", "Trần Văn Bình", "Lê Văn Dũng",
                "Đặng Thị Đào", "Võ Văn Đức", "Hồ Thị Yến"]
    for name in reversed(expected):
        services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code))
    first, total = services.mailboxes.page(MailboxQuery(unit_code=unit.code), 0, 5)
    second, _ = services.mailboxes.page(MailboxQuery(unit_code=unit.code), 5, 5)
    assert total == len(expected)
    assert [m.name.full for m in first + second] == expected
