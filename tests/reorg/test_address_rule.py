"""The one address rule (names.AddressAllocator.refusal through services.mailboxes.claim_addresses) that mailbox
creation, aliases and a reorganisation's new domain share: what each claimant may be given."""

from __future__ import annotations

from mailadmin.names import AddressAllocator, PrefixIndex, Refusal, held_local_parts
from mailadmin.services.mailboxes import claim_addresses

NEW = "daklak.gov.vn"


def book() -> AddressAllocator:
    """Mailbox A (uid annv, annv@phuyen) and mailbox B (uid bichtt, alias hotro@daklak) before a domain change."""
    holders: dict[str, set[str]] = {}
    for holder, uids, addresses in (("A", ["annv"], ["annv@phuyen.gov.vn"]),
                                    ("B", ["bichtt"], ["bichtt@phuyen.gov.vn", "hotro@daklak.gov.vn"])):
        for local in held_local_parts(uids, addresses, NEW):
            holders.setdefault(local, set()).add(holder)
    return AddressAllocator.of_holders(holders, ("info",))


def test_an_entry_is_given_its_own_uid_in_the_new_domain_and_nobody_else_is() -> None:
    rule = book()
    assert claim_addresses(rule, ["annv@daklak.gov.vn", "annv@phuyen.gov.vn"], NEW, "A") == []
    assert claim_addresses(rule, ["bichtt@daklak.gov.vn"], NEW, "A") == [("bichtt@daklak.gov.vn", Refusal(holder="B"))]
    assert claim_addresses(rule, ["hotro@daklak.gov.vn"], NEW, "A") == [("hotro@daklak.gov.vn", Refusal(holder="B"))]


def test_one_address_is_given_once_reserved_ones_never_ds_ones_to_unit_lists_only() -> None:
    rule = book()
    assert claim_addresses(rule, ["moi@daklak.gov.vn"], NEW, "A") == []
    assert claim_addresses(rule, ["MOI@daklak.gov.vn"], NEW, "B") == [("MOI@daklak.gov.vn", Refusal(holder="A"))]
    assert claim_addresses(rule, ["info@daklak.gov.vn", "ds-1@daklak.gov.vn"], NEW, "A") == [
        ("info@daklak.gov.vn", Refusal(reserved=True)), ("ds-1@daklak.gov.vn", Refusal(reserved=True))]
    assert claim_addresses(rule, ["ds-1@daklak.gov.vn"], NEW, "list", unit_list=True) == []
    assert claim_addresses(rule, ["info@daklak.gov.vn"], NEW, "list", unit_list=True) == [
        ("info@daklak.gov.vn", Refusal(reserved=True))]


def test_the_service_allocator_without_holders_refuses_what_the_directory_holds() -> None:
    rule = AddressAllocator(PrefixIndex(["annv", "hotro"]), ("info",))
    assert [address for address, _ in claim_addresses(rule, ["annv@x.vn", "info@x.vn", "an@x.vn", "an@x.vn"],
                                                      "x.vn")] == ["annv@x.vn", "info@x.vn", "an@x.vn"]
    assert rule.allocate("an") == "an1"  # handed out above: the batch never gets it twice
