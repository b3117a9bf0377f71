"""Certificates on mailbox entries: userCertificate;binary plus mailadmin's lookup keys."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ldap3.utils.conv import escape_filter_chars

from mailadmin.directory import filters
from mailadmin.directory.client import Changes, DirectoryClient, Entry
from mailadmin.directory.mailboxes import IS_MAILBOX
from mailadmin.directory.mapping import MAILBOX_ATTRIBUTES, mailbox_from_entry
from mailadmin.model import Mailbox, Role

HOLDER_CLASS = "maCertificateHolder"
CERTIFICATE = "userCertificate;binary"
FINGERPRINT = "maCertFingerprint"
ISSUER_SERIAL = "maCertIssuerSerial"
OWNER_ATTRIBUTES = (*MAILBOX_ATTRIBUTES, "objectClass", FINGERPRINT, ISSUER_SERIAL)
CONTACT_ATTRIBUTES = ("uid", "cn", "mail")


class CertificateStore:
    """Binds, unbinds and finds certificates; knows nothing of validation or rights."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client
        self.base_dn = client.base_dn

    # -- lookups ---------------------------------------------------------------------------------

    def by_fingerprint(self, fingerprint: str) -> list[Entry]:
        """Mailbox entries holding the certificate with this SHA-256 fingerprint (stored form)."""
        return self._owners(filters.eq(FINGERPRINT, fingerprint))

    def by_issuer_serial(self, key: str) -> list[Entry]:
        """Mailbox entries holding the certificate with this maCertIssuerSerial key."""
        return self._owners(f"({ISSUER_SERIAL}={escape_filter_chars(key)})")

    def by_exact_assertion(self, assertion: str) -> list[Entry]:
        """Mailbox entries matched by slapd's certificateExactMatch (`SERIAL$ISSUER`, ASCII issuers only)."""
        return self._owners(f"(userCertificate:certificateExactMatch:={escape_filter_chars(assertion)})")

    def entry(self, dn: str) -> Entry | None:
        """A mailbox entry with its certificates and keys."""
        return self.client.get(dn, OWNER_ATTRIBUTES)

    def by_uid(self, uid: str) -> Entry | None:
        """A mailbox entry by uid, with its certificates and keys (one search)."""
        found = self._owners(filters.eq("uid", uid))
        return found[0] if found else None

    def mailbox(self, entry: Entry) -> Mailbox:
        """The mailbox of an entry found by one of the lookups."""
        return mailbox_from_entry(entry, self.base_dn)

    def _owners(self, condition: str) -> list[Entry]:
        return self.client.search(self.base_dn, filters.all_of(IS_MAILBOX, condition), attributes=OWNER_ATTRIBUTES)

    def holders(self, base_dns: Sequence[str] = ()) -> Iterator[Mailbox]:
        """Every mailbox with at least one certificate, below each base (the whole tree by default)."""
        condition = filters.all_of(IS_MAILBOX, filters.present("userCertificate"))
        for base in base_dns or (self.base_dn,):
            for entry in self.client.iter_search(base, condition, attributes=MAILBOX_ATTRIBUTES):
                yield mailbox_from_entry(entry, self.base_dn)

    def role_holders(self, without_class: str) -> list[Mailbox]:
        """Mailboxes of role holders with a bound certificate whose entry lacks `without_class`."""
        condition = filters.all_of(IS_MAILBOX, filters.present("maRole"), filters.eq("objectClass", HOLDER_CLASS),
                                   filters.negate(filters.eq("objectClass", without_class)))
        return [self.mailbox(entry) for entry in self.client.search(self.base_dn, condition,
                                                                    attributes=MAILBOX_ATTRIBUTES)]

    def unit_admins(self, unit_dns: Sequence[str]) -> list[Entry]:
        """Unit admins whose scope is one of these units (pass a unit and every unit above it)."""
        scopes = filters.any_of(*(filters.eq("maAdminOf", dn) for dn in unit_dns))
        condition = filters.all_of(filters.eq("maRole", Role.UNITADMIN.value), scopes)
        return self.client.search(self.base_dn, condition, attributes=CONTACT_ATTRIBUTES)

    # -- writes ----------------------------------------------------------------------------------

    def bind(self, entry: Entry, der: bytes, fingerprint: str, issuer_serial: str) -> None:
        """Add the certificate and its keys in one modify (the unique overlay guards the fingerprint)."""
        changes: dict[str, tuple[str, Sequence[str | bytes]]] = {
            CERTIFICATE: ("add", [der]), FINGERPRINT: ("add", [fingerprint]),
        }
        if issuer_serial.lower() not in {v.lower() for v in entry.texts(ISSUER_SERIAL)}:
            changes[ISSUER_SERIAL] = ("add", [issuer_serial])
        if HOLDER_CLASS.lower() not in {c.lower() for c in entry.texts("objectClass")}:
            changes = {"objectClass": ("add", [HOLDER_CLASS]), **changes}
        self.client.modify(entry.dn, changes)

    def unbind(self, entry: Entry, der: bytes, fingerprint: str, issuer_serial: str,
               keep_issuer_serial: bool = False) -> None:
        """Remove the certificate and those of its keys the entry holds."""
        changes: Changes = {CERTIFICATE: ("delete", [der])}
        if fingerprint.lower() in {v.lower() for v in entry.texts(FINGERPRINT)}:
            changes = {**changes, FINGERPRINT: ("delete", [fingerprint])}
        held = {v.lower(): v for v in entry.texts(ISSUER_SERIAL)}
        if issuer_serial.lower() in held and not keep_issuer_serial:
            changes = {**changes, ISSUER_SERIAL: ("delete", [held[issuer_serial.lower()]])}
        self.client.modify(entry.dn, changes)
