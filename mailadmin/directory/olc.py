"""cn=config of an existing OpenLDAP, reached the Debian way: the ldapi:// socket, SASL EXTERNAL as root."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ldap3 import BASE, EXTERNAL, MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, NONE, SASL, SUBTREE, Connection, Server
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory.ldif import add_ldif, change_ldif
from mailadmin.directory.results import error_for_result
from mailadmin.errors import DirectoryError, DirectoryUnavailable, MailadminError
from mailadmin.i18n import t

DEBIAN_SOCKET = "/var/run/slapd/ldapi"  # what `ldapi:///` means to Debian's libldap and slapd
Attributes = dict[str, list[str]]
_OPERATIONS = {"add": MODIFY_ADD, "delete": MODIFY_DELETE, "replace": MODIFY_REPLACE}


@dataclass(frozen=True)
class Change:
    """One write: a new entry (`entry`) or modifications (operation, attribute, values) of an existing one."""

    dn: str
    operations: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    entry: Mapping[str, Sequence[str]] | None = field(default=None)

    def ldif(self) -> str:
        """The record `ldapmodify` takes."""
        if self.entry is not None:
            return add_ldif(self.dn, self.entry)
        return change_ldif(self.dn, self.operations)


def socket_path(uri: str) -> str:
    """The socket an ldapi:// URI names (percent-encoded path; empty: Debian's default)."""
    path = unquote(uri[len("ldapi://"):]) if uri.lower().startswith("ldapi://") else ""
    return path if path.strip("/") else DEBIAN_SOCKET


class ConfigConnection:
    """One SASL EXTERNAL connection on the local socket: reads and writes cn=config and the data tree."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.path = socket_path(uri)
        self._connection = self._open(SASL, sasl_mechanism=EXTERNAL, sasl_credentials=b"")

    def _open(self, authentication: str, **options: Any) -> Connection:
        # get_info=NONE: no client-side schema checks (the schema changes under this very connection).
        connection = Connection(Server("ldapi://" + self.path, get_info=NONE), authentication=authentication,
                                raise_exceptions=False, auto_referrals=False, **options)
        try:
            connection.open()
            if not connection.bind():
                raise error_for_result(connection.result, self.uri)
        except ldap_errors.LDAPException as exc:
            raise DirectoryUnavailable(t(
                "Không mở được {path} (chạy lệnh với quyền root trên máy chủ LDAP; --config-uri): {e}",
                "cannot open {path} (run as root on the LDAP server; --config-uri): {e}",
                path=self.path, e=exc)) from exc
        return connection

    def entries(self, base: str, search_filter: str = "(objectClass=*)", *, subtree: bool = True,
                attributes: Sequence[str] = ("*",)) -> dict[str, Attributes]:
        """DN -> attributes (text) of what a search finds; {} when the base does not exist."""
        self._connection.search(base, search_filter, SUBTREE if subtree else BASE, attributes=list(attributes))
        if self._connection.result["result"] == 32:
            return {}
        if self._connection.result["result"] != 0:
            raise error_for_result(self._connection.result, base)
        return {item["dn"]: _texts(item["raw_attributes"]) for item in self._connection.response
                if item.get("type") == "searchResEntry"}

    def exists(self, dn: str) -> bool:
        """Whether the entry is there."""
        return bool(self.entries(dn, subtree=False, attributes=["1.1"]))

    def apply(self, change: Change) -> None:
        """Write one change; the server's refusal becomes our error."""
        try:
            self._write(change)
        except ldap_errors.LDAPException as exc:
            raise DirectoryError(t("Không ghi được {dn}: {e}", "cannot write {dn}: {e}", dn=change.dn, e=exc)) from exc
        if self._connection.result["result"] != 0:
            raise error_for_result(self._connection.result, change.dn)

    def _write(self, change: Change) -> None:
        if change.entry is not None:
            self._connection.add(change.dn, attributes={k: list(v) for k, v in change.entry.items()})
        else:
            modifications: dict[str, list[tuple[Any, list[str]]]] = {}
            for operation, name, values in change.operations:
                modifications.setdefault(name, []).append((_OPERATIONS[operation], list(values)))
            self._connection.modify(change.dn, modifications)

    def can_bind(self, dn: str, password: str) -> bool:
        """Whether a simple bind as `dn` with `password` succeeds on the same socket."""
        try:
            self._open("SIMPLE", user=dn, password=password).unbind()
        except MailadminError:
            return False
        return True

    def close(self) -> None:
        """Release the connection."""
        self._connection.unbind()


def _texts(raw: Mapping[str, Sequence[bytes]]) -> Attributes:
    return {name: [value.decode("utf-8", "replace") for value in values] for name, values in raw.items()}
