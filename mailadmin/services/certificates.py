"""Use cases on officials' certificates: check, bind, unbind, show, whois, expiring, bulk binding."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailadmin.audit import AuditLog
from mailadmin.certs import (
    CertificateInfo,
    ldap_exact_assertion,
    load_certificates,
    load_crl,
    load_trust_anchors,
    split_leaf,
    validate,
)
from mailadmin.certs.bundle import BundleFile, BundleLimits, read_bundle
from mailadmin.certs.info import certificate_emails, display_name
from mailadmin.certs.keys import fingerprint_key, issuer_serial_key, parse_fingerprint
from mailadmin.certs.records import BoundCertificate, BulkPlan, BulkRow, Checked, Contact, Expiring, Owner
from mailadmin.certs.validate import MAIL_POLICIES, MailPolicy
from mailadmin.directory import dit
from mailadmin.directory.certificates import CertificateStore
from mailadmin.directory.client import DirectoryClient, Entry
from mailadmin.errors import ConfigError, Conflict, DirectoryError, InvalidInput, MailadminError, NotFound
from mailadmin.i18n import Text, t
from mailadmin.model import Mailbox, Role
from mailadmin.services.authz import Principal, require
from mailadmin.services.mailboxes import MailboxService
from mailadmin.services.units import UnitService
from mailadmin.settings import Settings

ANCHORS_VARIABLE = "MAILADMIN_TRUST_ANCHORS"


class CertificateService:
    """Business rules for certificates on top of the mailbox and certificate stores."""

    def __init__(self, settings: Settings, client: DirectoryClient, mailboxes: MailboxService,
                 units: UnitService, audit: AuditLog) -> None:
        self.settings = settings
        self.config = settings.certificates
        self.store = CertificateStore(client)
        self.mailboxes = mailboxes
        self.units = units
        self.audit = audit

    # -- configuration ---------------------------------------------------------------------------

    @property
    def anchors_path(self) -> Path:
        """The trust anchors: MAILADMIN_TRUST_ANCHORS, else certificates.trust_anchors."""
        return trust_anchors_path(self.settings)

    @cached_property
    def anchors(self) -> list[x509.Certificate]:
        """The configured trust anchors (read once)."""
        return load_trust_anchors(self.anchors_path)

    @cached_property
    def crls(self) -> list[x509.CertificateRevocationList]:
        """The configured CRLs (read once); none by default."""
        return configured_crls(self.settings)

    @property
    def mail_policy(self) -> MailPolicy:
        """certificates.mail_policy, checked."""
        policy = self.config.mail_policy
        if policy not in MAIL_POLICIES:
            raise ConfigError(t("certificates.mail_policy phải là một trong {choices}, không phải {policy!r}",
                                "certificates.mail_policy must be one of {choices}, not {policy!r}",
                                choices=", ".join(MAIL_POLICIES), policy=policy))
        return policy  # type: ignore[return-value]

    # -- one certificate -------------------------------------------------------------------------

    def check(self, uid: str, data: bytes, *, principal: Principal | None = None,
              now: datetime | None = None) -> Checked:
        """Validate an upload for a mailbox (every rule, the owner lookup included); writes nothing."""
        mailbox = self._mailbox(uid, principal, manage=True)
        leaf, others = split_leaf(load_certificates(data))
        return self._validate(mailbox, leaf, others, now)

    def bind(self, uid: str, data: bytes, *, principal: Principal | None = None,
             now: datetime | None = None) -> tuple[BoundCertificate, list[Text]]:
        """Validate then bind; returns the binding and its warnings. Refusals list every reason."""
        checked = self.check(uid, data, principal=principal, now=now)
        if not checked.result.ok:
            raise InvalidInput(_refusal(checked.result.errors), field="certificate")
        return self._write(checked, now), checked.result.warnings

    def unbind(self, uid: str, fingerprint: str, *, principal: Principal | None = None,
               now: datetime | None = None) -> BoundCertificate:
        """Remove one certificate (named by its SHA-256 fingerprint) from a mailbox."""
        wanted = parse_fingerprint(fingerprint)
        mailbox = self._mailbox(uid, principal, manage=True)
        bound = next((b for b in self._describe(mailbox, now) if b.info.fingerprint_sha256 == wanted), None)
        if bound is None:
            raise NotFound(t("Hộp thư {uid} không có chứng thư số {fingerprint}",
                             "mailbox {uid} has no certificate {fingerprint}", uid=mailbox.uid, fingerprint=wanted))
        key = issuer_serial_key(_load(bound.der))
        shared = any(issuer_serial_key(_load(der)) == key for der in mailbox.certificates if der != bound.der)
        self.store.unbind(self._entry(mailbox), bound.der, wanted, key, keep_issuer_serial=shared)
        self.audit.record("certificate.unbind", mailbox.uid, before=bound.record())
        return bound

    def show(self, uid: str, *, principal: Principal | None = None,
             now: datetime | None = None) -> list[BoundCertificate]:
        """The certificates of a mailbox, the one valid longest first."""
        mailbox = self._mailbox(uid, principal, manage=False)
        return sorted(self._describe(mailbox, now), key=lambda b: b.info.not_after, reverse=True)

    def whois(self, data: bytes, *, principal: Principal | None = None) -> list[Owner]:
        """The accounts holding the certificate of an upload: by fingerprint, issuer + serial, exact match."""
        leaf, _ = split_leaf(load_certificates(data))
        found: dict[str, tuple[Entry, list[str]]] = {}
        for method, entries in self._lookups(leaf):
            for entry in entries:
                found.setdefault(entry.dn, (entry, []))[1].append(method)
        owners = [self._owner(entry, methods) for entry, methods in found.values()]
        return [o for o in owners if principal is None or self._may_read(principal, o.uid, o.unit_code)]

    def _lookups(self, leaf: x509.Certificate) -> Iterator[tuple[str, list[Entry]]]:
        yield "fingerprint", self.store.by_fingerprint(fingerprint_key(leaf))
        yield "issuer_serial", self.store.by_issuer_serial(issuer_serial_key(leaf))
        assertion = ldap_exact_assertion(leaf)
        if assertion.isascii():  # slapd never matches non-ASCII issuers (docs/directory.md)
            yield "certificate_exact_match", self.store.by_exact_assertion(assertion)

    # -- expiry ----------------------------------------------------------------------------------

    def expiring(self, days: int, *, principal: Principal | None = None, now: datetime | None = None,
                 include_renewed: bool = False) -> list[Expiring]:
        """Bound certificates ending within `days` (expired ones too), soonest first, with whom to tell."""
        if days < 0:
            raise InvalidInput(t("Số ngày phải ≥ 0", "days must be 0 or more"), field="days")
        now = now or datetime.now(UTC)
        horizon = now + timedelta(days=days)
        admins: dict[tuple[str, ...], tuple[Contact, ...]] = {}
        found: list[Expiring] = []
        # Materialised first: a search issued between two pages of a paged search on the same
        # pooled connection invalidates its cookie (slapd: "paged results cookie is invalid").
        for mailbox in list(self.store.holders(self._read_bases(principal))):
            described = self._describe(mailbox, now)
            renewed = any(b.info.not_after > horizon for b in described)
            for bound in described:
                if bound.info.not_after <= horizon and (include_renewed or not renewed):
                    found.append(self._expiring(mailbox, bound, now, renewed, admins))
        return sorted(found, key=lambda e: (e.certificate.info.not_after, e.owner.uid))

    def _expiring(self, mailbox: Mailbox, bound: BoundCertificate, now: datetime, renewed: bool,
                  admins: dict[tuple[str, ...], tuple[Contact, ...]]) -> Expiring:
        path = self.units.get(mailbox.unit_code).path
        if path not in admins:
            dns = [dit.unit_dn(path[:depth], self.store.base_dn) for depth in range(1, len(path) + 1)]
            admins[path] = tuple(_contact(e) for e in self.store.unit_admins(dns))
        owner = Contact(mailbox.uid, mailbox.name.full, mailbox.mail)
        days_left = (bound.info.not_after - now).days
        return Expiring(bound, owner, mailbox.unit_code, days_left, renewed, admins[path])

    # -- bulk ------------------------------------------------------------------------------------

    def plan_folder(self, path: Path, *, principal: Principal | None = None,
                    now: datetime | None = None) -> BulkPlan:
        """Read a folder or zip and decide, per file, what binding it would make; writes nothing."""
        limits = BundleLimits(max_total_bytes=self.config.max_bundle_mib * 1024 * 1024)
        bundle = read_bundle(path, limits)
        plan = BulkPlan(str(path), [], bundle.ignored)
        seen: dict[str, str] = {}
        for item in bundle.files:
            plan.rows.append(self._plan_file(item, seen, principal, now))
        return plan

    def apply(self, plan: BulkPlan, *, now: datetime | None = None) -> BulkPlan:
        """Bind every planned file; a refused one is reported and holds back nobody else."""
        for row in plan.rows:
            if row.outcome != "bind" or row.checked is None:
                continue
            try:
                self._write(row.checked, now)
                row.outcome = "bound"
            except MailadminError as error:
                row.outcome, row.messages = "failed", [*row.messages, error.message]
        plan.applied = True
        self.audit.record("certificate.bind_folder", plan.source,
                          after={"bound": plan.count("bound"), "failed": plan.count("failed"),
                                 "skipped": plan.count("skip"), "errors": plan.count("error")})
        return plan

    def _plan_file(self, item: BundleFile, seen: dict[str, str], principal: Principal | None,
                   now: datetime | None) -> BulkRow:
        row = BulkRow(item.name, "error")
        if item.problem is not None or item.data is None:
            row.messages.append(item.problem or t("Không đọc được tệp", "cannot read the file"))
            return row
        try:
            leaf, others = split_leaf(load_certificates(item.data))
            row.fingerprint, row.subject = fingerprint_key(leaf), display_name(leaf.subject)
            mailbox = self._mailbox_for(leaf, principal)
        except MailadminError as error:
            row.messages.append(error.message)
            return row
        row.uid = mailbox.uid
        if row.fingerprint in seen:
            row.messages.append(t("Cùng chứng thư với tệp {other}", "same certificate as file {other}",
                                  other=seen[row.fingerprint]))
            return row
        seen[row.fingerprint] = row.file
        if any(fingerprint_key(_load(der)) == row.fingerprint for der in mailbox.certificates):
            row.outcome = "skip"
            row.messages.append(t("Đã gắn với {uid} từ trước", "already bound to {uid}", uid=mailbox.uid))
            return row
        checked = self._validate(mailbox, leaf, others, now)
        row.messages += [*checked.result.errors, *checked.result.warnings]
        row.outcome, row.checked = ("bind", checked) if checked.result.ok else ("error", None)
        return row

    def _mailbox_for(self, leaf: x509.Certificate, principal: Principal | None) -> Mailbox:
        """The one mailbox whose address or alias is a mail in the certificate."""
        emails = certificate_emails(leaf)
        matches = {m.uid: m for m in (self.mailboxes.store.find_by_address(e) for e in emails) if m}
        if not matches:
            raise NotFound(t("Không có hộp thư nào có địa chỉ trong chứng thư ({emails})",
                             "no mailbox has an address from the certificate ({emails})",
                             emails=", ".join(emails) or "-"))
        if len(matches) > 1:
            raise Conflict(t("Các địa chỉ trong chứng thư thuộc nhiều hộp thư: {uids}",
                             "the certificate's addresses belong to several mailboxes: {uids}",
                             uids=", ".join(sorted(matches))))
        mailbox = next(iter(matches.values()))
        if principal is not None:
            self._authorize(principal, mailbox, manage=True)
        return mailbox

    # -- shared steps ----------------------------------------------------------------------------

    def _validate(self, mailbox: Mailbox, leaf: x509.Certificate, others: Sequence[x509.Certificate],
                  now: datetime | None) -> Checked:
        policy, owners = self.mail_policy, self.store.by_fingerprint(fingerprint_key(leaf))
        result = validate(leaf, others, anchors=self.anchors, now=now or datetime.now(UTC),
                          mailbox_addresses=[mailbox.mail, *mailbox.aliases], mail_policy=policy,
                          crls=self.crls, already_bound_to=owners[0].text("uid") if owners else None)
        return Checked(mailbox, leaf, result)

    def _write(self, checked: Checked, now: datetime | None) -> BoundCertificate:
        mailbox, leaf = checked.mailbox, checked.leaf
        der = _der(leaf)
        fingerprint = fingerprint_key(leaf)
        try:
            self.store.bind(self._entry(mailbox), der, fingerprint, issuer_serial_key(leaf))
        except (Conflict, DirectoryError):
            # Bound meanwhile by another writer: elsewhere, the unique overlay refuses the
            # fingerprint; on this entry, slapd refuses the duplicate value (code 20).
            owners = self.store.by_fingerprint(fingerprint)
            if not owners:
                raise
            raise Conflict(t("Chứng thư số này vừa được gắn với tài khoản {uid}",
                             "this certificate has just been bound to account {uid}",
                             uid=owners[0].text("uid")), "certificate") from None
        bound = self._bound(mailbox.uid, der, now)
        self.audit.record("certificate.bind", mailbox.uid, after=bound.record())
        return bound

    def _mailbox(self, uid: str, principal: Principal | None, *, manage: bool) -> Mailbox:
        mailbox = self.mailboxes.get(uid)
        if principal is not None:
            self._authorize(principal, mailbox, manage=manage)
        return mailbox

    def _authorize(self, principal: Principal, mailbox: Mailbox, *, manage: bool) -> None:
        """Admins within their scope (auditors read too); the owner for self-service."""
        if principal.uid == mailbox.uid:
            return
        if manage:  # a certificate signs its holder in (issue 16): binding one acts on the account
            self.mailboxes.authorize_change(principal, mailbox)
            return
        unit = self.units.get(mailbox.unit_code)
        require(principal.may_read(unit), unit)

    def _may_read(self, principal: Principal, uid: str, unit_code: str) -> bool:
        return principal.uid == uid or principal.may_read(self.units.get(unit_code))

    def _read_bases(self, principal: Principal | None) -> list[str]:
        """Where a principal may look: everywhere, their unit subtrees, or only their own entry."""
        if principal is None or principal.has(Role.SUPERADMIN, Role.AUDITOR):
            return []
        if principal.scopes:
            return [dit.unit_dn(scope, self.store.base_dn) for scope in principal.scopes]
        return [self.mailboxes.store.find_entry(principal.uid).dn]

    def _entry(self, mailbox: Mailbox) -> Entry:
        entry = self.store.by_uid(mailbox.uid)
        if entry is None:
            raise NotFound(t("Không có hộp thư {uid}", "no mailbox {uid}", uid=mailbox.uid))
        return entry

    def _describe(self, mailbox: Mailbox, now: datetime | None) -> list[BoundCertificate]:
        return [self._bound(mailbox.uid, der, now) for der in mailbox.certificates if _readable(der)]

    def _bound(self, uid: str, der: bytes, now: datetime | None) -> BoundCertificate:
        cert = _load(der)
        info = CertificateInfo.from_certificate(cert)
        revoked = any(crl.issuer == cert.issuer and crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                      for crl in self.crls)
        status = info.status(now or datetime.now(UTC), self.config.expiring_days, revoked=revoked)
        return BoundCertificate(uid, info, status, der)

    def _owner(self, entry: Entry, methods: list[str]) -> Owner:
        mailbox = self.store.mailbox(entry)
        return Owner(mailbox.uid, mailbox.name.full, mailbox.mail, mailbox.unit_code, tuple(methods))


def trust_anchors_path(settings: Settings) -> Path:
    """The trust anchors' file or folder: MAILADMIN_TRUST_ANCHORS, else certificates.trust_anchors."""
    return settings.resolve(os.environ.get(ANCHORS_VARIABLE) or settings.certificates.trust_anchors)


def configured_crls(settings: Settings) -> list[x509.CertificateRevocationList]:
    """The CRLs of certificates.crl_files (a ConfigError names one that cannot be read)."""
    return [_read_crl(settings.resolve(name)) for name in settings.certificates.crl_files]


def _refusal(errors: Sequence[Text]) -> Text:
    return t("Không gắn được chứng thư số: {reasons_vi}", "The certificate was not bound: {reasons_en}",
             reasons_vi=" ".join(e.render("vi") for e in errors),
             reasons_en=" ".join(e.render("en") for e in errors))


def _contact(entry: Entry) -> Contact:
    return Contact(entry.text("uid"), entry.text("cn"), entry.text("mail"))


def _load(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def _readable(der: bytes) -> bool:
    try:
        _load(der)
    except ValueError:
        return False
    return True


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _read_crl(path: Path) -> x509.CertificateRevocationList:
    try:
        return load_crl(path.read_bytes())
    except OSError as error:
        raise ConfigError(t("Không đọc được CRL {path}: {reason}", "cannot read the CRL {path}: {reason}",
                            path=str(path), reason=error.strerror or str(error))) from None
    except InvalidInput as error:
        raise ConfigError(t("CRL {path} không dùng được: {reason_vi}", "unusable CRL {path}: {reason_en}",
                            path=str(path), reason_vi=error.message.render("vi"),
                            reason_en=error.message.render("en"))) from None
