"""LDAP write requests encoded here in BER and sent on ldap3's own connection: the bulk paths' hot loop.

ldap3 builds every request as a tree of pyasn1 objects, decodes it back into a dict for
`connection.request`, then has pyasn1 encode it: ~1.5 ms of Python per add, which made an import of
6,888 people run at ~4.7× the time slapd needs for the same adds in transactions (FACTS.md, issue #17).
An AddRequest is a few nested TLVs; building the bytes directly costs a few dozen microseconds. The
message goes out on the ldap3 connection the bulk path already holds (its socket, its message ids, its
response reader), so binding, TLS, response decoding and errors stay ldap3's. tests/test_wire.py checks
the bytes against pyasn1's encoding of the same request, and the requests against slapd itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ldap3 import Connection
from ldap3.core.exceptions import LDAPSessionTerminatedByServerError, LDAPSocketSendError

Value = str | bytes
Control = tuple[str, bool, bytes | None]
SEQUENCE, SET, OCTETS, INTEGER, BOOLEAN, ENUMERATED = 0x30, 0x31, 0x04, 0x02, 0x01, 0x0A
ADD_REQUEST, MODIFY_REQUEST, MODIFY_DN_REQUEST, CONTROLS, NEW_SUPERIOR = 0x68, 0x66, 0x6C, 0xA0, 0x80
MODIFY_OPERATIONS = {"add": 0, "delete": 1, "replace": 2, "increment": 3}


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes((size,))
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    """One BER element: tag, definite length, contents."""
    return bytes((tag,)) + _length(len(body)) + body


def _octets(value: Value) -> bytes:
    return tlv(OCTETS, value if isinstance(value, bytes) else str(value).encode("utf-8"))


def _integer(number: int) -> bytes:
    return tlv(INTEGER, number.to_bytes(max(1, (number.bit_length() + 8) // 8), "big", signed=True))


def _attribute(name: str, values: Iterable[Value]) -> bytes:
    return tlv(SEQUENCE, _octets(name) + tlv(SET, b"".join(_octets(value) for value in values)))


def add_request(dn: str, attributes: Mapping[str, Sequence[Value]]) -> bytes:
    """RFC 4511 AddRequest ::= [APPLICATION 8] SEQUENCE { entry LDAPDN, attributes AttributeList }."""
    listed = b"".join(_attribute(name, values) for name, values in attributes.items() if values)
    return tlv(ADD_REQUEST, _octets(dn) + tlv(SEQUENCE, listed))


def modify_request(dn: str, changes: Mapping[str, tuple[str, Sequence[Value]]]) -> bytes:
    """RFC 4511 ModifyRequest ::= [APPLICATION 6] SEQUENCE { object LDAPDN, changes SEQUENCE OF change }."""
    listed = b"".join(tlv(SEQUENCE, tlv(ENUMERATED, bytes((MODIFY_OPERATIONS[operation],)))
                          + _attribute(name, values)) for name, (operation, values) in changes.items())
    return tlv(MODIFY_REQUEST, _octets(dn) + tlv(SEQUENCE, listed))


def modify_dn_request(dn: str, new_rdn: str, new_parent: str | None, delete_old_rdn: bool = True) -> bytes:
    """RFC 4511 ModifyDNRequest ::= [APPLICATION 12] SEQUENCE { entry, newrdn, deleteoldrdn, newSuperior [0] OPT }."""
    superior = tlv(NEW_SUPERIOR, new_parent.encode("utf-8")) if new_parent is not None else b""
    return tlv(MODIFY_DN_REQUEST, _octets(dn) + _octets(new_rdn)
               + tlv(BOOLEAN, b"\x01" if delete_old_rdn else b"\x00") + superior)


def _control(oid: str, critical: bool, value: bytes | None) -> bytes:
    body = _octets(oid) + (tlv(BOOLEAN, b"\x01") if critical else b"") + (_octets(value) if value is not None else b"")
    return tlv(SEQUENCE, body)


def message(message_id: int, operation: bytes, controls: Sequence[Control] | None = None) -> bytes:
    """LDAPMessage ::= SEQUENCE { messageID, protocolOp, controls [0] Controls OPTIONAL }."""
    tail = tlv(CONTROLS, b"".join(_control(*control) for control in controls)) if controls else b""
    return tlv(SEQUENCE, _integer(message_id) + operation + tail)


def send_add(connection: Connection, dn: str, attributes: Mapping[str, Sequence[Value]],
             controls: Sequence[Control] | None = None) -> int:
    """Send an AddRequest on an open ldap3 connection; its message id, for connection.get_response."""
    return _send(connection, {"type": "addRequest", "entry": dn}, add_request(dn, attributes), controls)


def send_modify(connection: Connection, dn: str, changes: Mapping[str, tuple[str, Sequence[Value]]],
                controls: Sequence[Control] | None = None) -> int:
    """Send a ModifyRequest (one operation per attribute); its message id."""
    return _send(connection, {"type": "modifyRequest", "entry": dn}, modify_request(dn, changes), controls)


def send_move(connection: Connection, dn: str, new_rdn: str, new_parent: str | None,
              controls: Sequence[Control] | None = None) -> int:
    """Send a ModifyDNRequest (the old RDN deleted); its message id."""
    return _send(connection, {"type": "modDNRequest", "entry": dn},
                 modify_dn_request(dn, new_rdn, new_parent), controls)


def _send(connection: Connection, request: dict[str, Any], operation: bytes,
          controls: Sequence[Control] | None) -> int:
    strategy: Any = connection.strategy
    with connection.connection_lock:
        if connection.closed or strategy._outstanding is None or connection.socket is None:  # the server went away
            raise LDAPSessionTerminatedByServerError("the server closed the connection")
        message_id = int(connection.server.next_message_id())
        strategy._outstanding[message_id] = request  # where ldap3 expects its own requests (get_response)
        try:
            connection.socket.sendall(message(message_id, operation, controls))
        except OSError as exc:  # broken pipe, reset: an outage like any other (client.OUTAGES)
            raise LDAPSocketSendError(f"error sending data: {exc}") from exc
    return int(connection.post_send_single_response(message_id))  # ASYNC: the event its reader sets
