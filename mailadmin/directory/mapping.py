"""Domain objects <-> directory attributes (no I/O here)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mailadmin.directory import dit
from mailadmin.directory.client import Entry, Values
from mailadmin.model import FormerUnit, Mailbox, PersonName, Status, Tier, Unit, UnitKind
from mailadmin.names import search_key, sort_key

MAILBOX_CLASSES = ("top", "inetOrgPerson", "inetLocalMailRecipient", "maMailbox")
UNIT_CLASSES = ("top", "organizationalUnit", "maUnit")
MAILBOX_ATTRIBUTES = (
    "uid", "cn", "sn", "givenName", "mail", "mailLocalAddress", "title", "telephoneNumber",
    "employeeNumber", "maAccountStatus", "maTier", "maMailQuota", "maRetainUntil",
    "userCertificate;binary", "pwdAccountLockedTime",
)
UNIT_ATTRIBUTES = ("ou", "displayName", "maUnitKind", "maValidFrom", "maPredecessor", "maValidTo", "maSuccessor")
# ppolicy's value for "locked until an administrator unlocks".
LOCKED_FOREVER = "000001010000Z"


def mailbox_attributes(mailbox: Mailbox) -> dict[str, Values]:
    """Every attribute of a mailbox entry (the password is added by the caller)."""
    return {
        "objectClass": list(MAILBOX_CLASSES),
        **mailbox_changes(mailbox),
    }


def mailbox_changes(mailbox: Mailbox) -> dict[str, Values]:
    """The attributes a mailbox's fields decide, empty lists for absent optional ones."""
    name = mailbox.name
    return {
        "uid": [mailbox.uid],
        "cn": [name.full],
        "sn": [name.family or name.given],
        "givenName": [name.given],
        "maSearchName": [search_key(name.full)],
        "maSortKey": [sort_key(name)],
        "mail": [mailbox.mail],
        # Every address, the primary one too: the unique overlay then keeps an alias from
        # ever equalling another mailbox's address (it checks each attribute on its own).
        "mailLocalAddress": [mailbox.mail, *(a for a in mailbox.aliases if a != mailbox.mail)],
        "title": [mailbox.title] if mailbox.title else [],
        "telephoneNumber": [mailbox.phone] if mailbox.phone else [],
        "employeeNumber": [mailbox.hr_id] if mailbox.hr_id else [],
        "maAccountStatus": [mailbox.status.value],
        "maTier": [mailbox.tier.value],
        "maMailQuota": [str(mailbox.quota_mib)] if mailbox.quota_mib else [],
        "maRetainUntil": [generalized_time(mailbox.retain_until)] if mailbox.retain_until else [],
    }


def mailbox_from_entry(entry: Entry, base_dn: str) -> Mailbox:
    """A Mailbox from its entry; the unit is the entry's parent."""
    name = _person_name(entry.text("cn"), entry.text("sn"), entry.text("givenName"))
    quota = entry.text("maMailQuota")
    retain = entry.text("maRetainUntil")
    unit_path = dit.parent_unit_path(entry.dn, base_dn)
    return Mailbox(
        uid=entry.text("uid"), name=name, mail=entry.text("mail"),
        unit_code=unit_path[-1] if unit_path else "", tier=Tier(entry.text("maTier", "province")),
        status=Status(entry.text("maAccountStatus", "active")),
        aliases=tuple(sorted(set(entry.texts("mailLocalAddress")) - {entry.text("mail")})),
        title=entry.text("title"),
        phone=entry.text("telephoneNumber"), hr_id=entry.text("employeeNumber"),
        quota_mib=int(quota) if quota else 0,
        retain_until=_parse_generalized_date(retain) if retain else None,
        certificates=tuple(entry.raw("userCertificate")),
    )


def _person_name(full: str, family: str, given: str) -> PersonName:
    """Family from sn, given from givenName, middle = what cn has between them (or before them)."""
    if full == given:
        return PersonName("", "", given)  # a one-word name: sn repeats it (sn is required)
    kinh_order = full.startswith(f"{family} ") and full.endswith(given)
    if full.endswith(f" {family}") and not kinh_order:  # family last: 'Y Moan Niê', 'H'Hen Niê'
        middle = full.removesuffix(f" {family}").removesuffix(given).strip()
        return PersonName(family, middle, given, family_last=True)
    middle = full.removeprefix(family).removesuffix(given).strip()
    return PersonName(family, middle, given)


def unit_attributes(unit: Unit) -> dict[str, Values]:
    """The attributes of a unit entry."""
    return {
        "objectClass": list(UNIT_CLASSES), "ou": [unit.code], "displayName": [unit.name],
        "maUnitKind": [unit.kind.value], "maSearchName": [search_key(unit.name)],
        **unit_history(unit),
    }


def unit_history(unit: Unit) -> dict[str, Values]:
    """The history attributes of a unit entry (empty lists when it has none)."""
    return {"maValidFrom": [generalized_time(unit.valid_from)] if unit.valid_from else [],
            "maPredecessor": list(unit.predecessors)}


def unit_from_entry(entry: Entry, base_dn: str) -> Unit:
    """A Unit from its entry; the path comes from the DN."""
    path = dit.unit_path_of(entry.dn, base_dn)
    valid_from = entry.text("maValidFrom")
    return Unit(code=path[-1], name=entry.text("displayName"),
                kind=UnitKind(entry.text("maUnitKind")), path=path,
                valid_from=_parse_generalized_date(valid_from) if valid_from else None,
                predecessors=tuple(entry.texts("maPredecessor")))


def former_unit_from_entry(entry: Entry) -> FormerUnit:
    """A FormerUnit from its entry in the history container."""
    valid_from, valid_to = entry.text("maValidFrom"), entry.text("maValidTo")
    return FormerUnit(code=entry.text("ou"), name=entry.text("displayName"), kind=UnitKind(entry.text("maUnitKind")),
                      valid_to=_parse_generalized_date(valid_to) if valid_to else None,
                      successor=entry.text("maSuccessor"),
                      valid_from=_parse_generalized_date(valid_from) if valid_from else None,
                      predecessors=tuple(entry.texts("maPredecessor")))


def generalized_time(day: date) -> str:
    """A day as LDAP GeneralizedTime (midnight UTC)."""
    return day.strftime("%Y%m%d") + "000000Z"


def _parse_generalized_date(value: str) -> date:
    return datetime.strptime(value[:8], "%Y%m%d").replace(tzinfo=UTC).date()
