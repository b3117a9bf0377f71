"""The lean BER encoder of the bulk write path: byte for byte what ldap3 + pyasn1 send, and slapd agrees."""

from __future__ import annotations

from typing import Any

import pytest
from ldap3 import ASYNC, Connection, Server
from ldap3.operation.add import add_operation
from ldap3.operation.modify import modify_operation
from ldap3.operation.modifyDn import modify_dn_operation
from ldap3.protocol.convert import build_controls_list
from ldap3.protocol.rfc4511 import LDAPMessage, MessageID, ProtocolOp
from pyasn1.codec.ber import encoder

from mailadmin.directory import wire
from mailadmin.directory.client import TXN_SPEC, TXN_START
from mailadmin.directory.dit import mailbox_dn
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.certs import factory as f

CERTIFICATE = f.der(f.root_ca().cert)
ENTRIES: list[tuple[str, dict[str, list[Any]]]] = [
    ("uid=annv,ou=555,dc=phuyen,dc=gov,dc=vn", {"objectClass": ["top", "inetOrgPerson"], "cn": ["Nguyễn Văn An"],
                                                 "sn": ["Nguyễn"], "uid": ["annv"]}),
    ("uid=daodt,ou=22015,ou=555,dc=phuyen,dc=gov,dc=vn", {"cn": ["Đặng Thị Đào"], "description": ["x" * 300],
                                                          "userCertificate;binary": [CERTIFICATE]}),
    ("cn=lớn,dc=phuyen,dc=gov,dc=vn", {"description": ["ư" * 40000], "empty": []}),
]
CONTROLS: list[list[tuple[str, bool, bytes | None]] | None] = [
    None, [(TXN_SPEC, True, b"\x01\x02\x03")], [("1.2.3.4", False, None)], [("1.2.3", True, None), ("1.3", False, b"")]]


def pyasn1_message(message_id: int, kind: str, request: Any, controls: Any) -> bytes:
    """What ldap3's own send() would put on the wire."""
    message = LDAPMessage()
    message["messageID"] = MessageID(message_id)
    message["protocolOp"] = ProtocolOp().setComponentByName(kind, request)
    built = build_controls_list(controls)
    if built is not None:
        message["controls"] = built
    return encoder.encode(message)


@pytest.mark.parametrize("message_id", [1, 127, 128, 255, 256, 40000, 2**31 - 1])
@pytest.mark.parametrize("controls", CONTROLS)
@pytest.mark.parametrize(("dn", "attributes"), ENTRIES)
def test_add_is_byte_for_byte_pyasn1(dn: str, attributes: dict[str, list[Any]], controls: Any,
                                     message_id: int) -> None:
    expected = pyasn1_message(message_id, "addRequest",
                              add_operation(dn, {k: v for k, v in attributes.items() if v}, True), controls)
    assert wire.message(message_id, wire.add_request(dn, attributes), controls) == expected


@pytest.mark.parametrize("controls", CONTROLS)
def test_modify_is_byte_for_byte_pyasn1(controls: Any) -> None:
    changes = {"cn": ("replace", ["Nguyễn Văn Bình"]), "mail": ("add", ["b@x", "c@x"]), "title": ("delete", []),
               "userCertificate;binary": ("replace", [CERTIFICATE]), "n": ("increment", ["1"])}
    ldap3_changes = {name: [(wire.MODIFY_OPERATIONS[op], values)] for name, (op, values) in changes.items()}
    expected = pyasn1_message(77, "modifyRequest", modify_operation("uid=x,dc=y", ldap3_changes, True), controls)
    assert wire.message(77, wire.modify_request("uid=x,dc=y", changes), controls) == expected


def test_slapd_takes_the_encoded_adds_inside_a_transaction(services: Services, unit: Unit) -> None:
    """Sent on an ldap3 ASYNC connection: slapd adds them, ldap3 reads the answers, values come back intact."""
    config = services.client.config
    connection = Connection(Server(config.uris[0]), config.bind_dn, config.password, client_strategy=ASYNC,
                            auto_bind=True)
    try:
        start = connection.get_response(connection.extended(TXN_START))[1]
        people = [(mailbox_dn(uid, unit.path, services.client.base_dn), {
            "objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [name], "sn": [name.split()[0]],
            "userCertificate;binary": [CERTIFICATE]}) for uid, name in (("wirea", "Nguyễn Văn Dây"),
                                                                       ("wireb", "Đặng Thị Sợi"))]
        sent = [wire.send_add(connection, dn, attributes, [(TXN_SPEC, True, start["responseValue"])])
                for dn, attributes in people]
        assert [connection.get_response(message_id)[1]["result"] for message_id in sent] == [0, 0]
        assert services.client.get(people[0][0], ["cn"]) is None  # not before the commit
        end = connection.get_response(connection.extended(
            "1.3.6.1.1.21.3", wire.tlv(0x30, wire.tlv(0x04, start["responseValue"]))))[1]
        assert end["result"] == 0
    finally:
        connection.unbind()
    entry = services.client.get(people[1][0], ["cn", "userCertificate;binary"])
    assert entry is not None and entry.text("cn") == "Đặng Thị Sợi" and entry.raw("usercertificate") == [CERTIFICATE]


@pytest.mark.parametrize("new_parent", [None, "ou=66,dc=phuyen,dc=gov,dc=vn", "ou=Phường Tuy Hòa,dc=x"])
@pytest.mark.parametrize("delete_old", [True, False])
@pytest.mark.parametrize("controls", CONTROLS)
def test_modify_dn_is_byte_for_byte_pyasn1(new_parent: str | None, delete_old: bool, controls: Any) -> None:
    dn, new_rdn = "uid=annv,ou=22018,ou=555,ou=54,dc=phuyen,dc=gov,dc=vn", "uid=annv"
    expected = pyasn1_message(300, "modDNRequest", modify_dn_operation(dn, new_rdn, delete_old, new_parent), controls)
    assert wire.message(300, wire.modify_dn_request(dn, new_rdn, new_parent, delete_old), controls) == expected


def test_slapd_takes_the_encoded_moves_and_modifies(services: Services, unit: Unit) -> None:
    """Renames and modifies sent by the lean encoder (client.move_many / modify_many): slapd carries them out."""
    base = services.client.base_dn
    dns = [mailbox_dn(uid, unit.path, base) for uid in ("wirec", "wired")]
    for dn in dns:
        services.client.add(dn, {"objectClass": ["inetOrgPerson"], "uid": [dn[4:9]], "cn": ["Lê Văn Chuyển"],
                                 "sn": ["Lê"]})
    assert services.client.modify_many([(dn, {"title": ("replace", ["Chuyên viên"])}) for dn in dns]) == []
    moves = [(dn, f"uid={dn[4:9]}x", None) for dn in dns]
    assert services.client.move_many(moves) == []
    moved = services.client.get(mailbox_dn("wiredx", unit.path, base), ["uid", "title"])
    assert moved is not None and moved.texts("uid") == ["wiredx"] and moved.text("title") == "Chuyên viên"
    refused = services.client.move_many([(dns[0], "uid=wirec", None)])  # the old DN is gone
    assert [failure.dn for failure in refused] == [dns[0]]
