"""Plain domain objects: no ldap3, no Flask."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class Tier(StrEnum):
    """Administrative tier of a mailbox, following from its unit."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class UnitKind(StrEnum):
    """What a unit is: the province, a province agency, a district-level unit, a commune (old and two-tier
    model alike), or since the 2025 reform a ward or a special zone (đặc khu), both at commune level."""

    PROVINCE = "province"
    AGENCY = "agency"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"
    SPECIAL_ZONE = "special_zone"

    @property
    def tier(self) -> Tier:
        """The tier of mailboxes in a unit of this kind."""
        return _TIER_OF_KIND[self]


_TIER_OF_KIND = {
    UnitKind.PROVINCE: Tier.PROVINCE,
    UnitKind.AGENCY: Tier.PROVINCE,
    UnitKind.DISTRICT: Tier.DISTRICT,
    UnitKind.COMMUNE: Tier.COMMUNE,
    UnitKind.WARD: Tier.COMMUNE,
    UnitKind.SPECIAL_ZONE: Tier.COMMUNE,
}


class Status(StrEnum):
    """Lifecycle of a mailbox: only active ones can log in."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    RETIRED = "retired"


class Role(StrEnum):
    """What a person may do in mailadmin (kept in the directory as maRole)."""

    SUPERADMIN = "superadmin"  # province IT: everything
    UNITADMIN = "unitadmin"    # mailboxes, lists and units inside their units' subtrees
    HR = "hr"                  # imports inside their units' subtrees
    AUDITOR = "auditor"        # reads everything, changes nothing


@dataclass(frozen=True)
class Unit:
    """A node of the unit tree; `path` lists the codes from the top unit down to this one."""

    code: str
    name: str
    kind: UnitKind
    path: tuple[str, ...]
    valid_from: date | None = None         # history: when the unit came into being (a reorganisation)
    predecessors: tuple[str, ...] = ()     # codes of the units it took over

    @property
    def parent_code(self) -> str | None:
        """Code of the unit above, None for the top unit."""
        return self.path[-2] if len(self.path) > 1 else None

    @property
    def tier(self) -> Tier:
        """Tier of the mailboxes that belong to this unit."""
        return self.kind.tier

    @property
    def depth(self) -> int:
        """0 for the top unit."""
        return len(self.path) - 1


@dataclass(frozen=True)
class FormerUnit:
    """A unit that no longer exists, kept as history: closed or merged away by a reorganisation."""

    code: str
    name: str
    kind: UnitKind
    valid_to: date | None                  # its last day
    successor: str                         # code of the unit that took it over (closed: the holding unit)
    valid_from: date | None = None
    predecessors: tuple[str, ...] = ()

    @property
    def ended(self) -> date | None:
        """The first day without it: the reorganisation's effective date."""
        return self.valid_to + timedelta(days=1) if self.valid_to else None


@dataclass(frozen=True)
class PersonName:
    """A Vietnamese name: family name first, then middle names, given name last (or family last)."""

    family: str
    middle: str
    given: str
    family_last: bool = False  # Ê Đê order: 'Y Moan Niê' is middle 'Y', given 'Moan', family 'Niê'

    @property
    def full(self) -> str:
        """The name as written: 'Nguyễn Văn An', 'Y Moan Niê', 'H'Hen Niê'."""
        if not self.family_last:
            return " ".join(part for part in (self.family, self.middle, self.given) if part)
        glue = "" if self.middle and not self.middle[-1].isalnum() else " "  # H'Hen, Y-Prơi: the prefix is glued
        return f"{self.middle}{glue}{self.given} {self.family}".strip()


@dataclass(frozen=True)
class Mailbox:
    """An official's mailbox and identity, as the directory holds it."""

    uid: str
    name: PersonName
    mail: str
    unit_code: str
    tier: Tier
    status: Status = Status.ACTIVE
    aliases: tuple[str, ...] = ()
    title: str = ""
    phone: str = ""
    hr_id: str = ""
    quota_mib: int = 0
    retain_until: date | None = None
    certificates: tuple[bytes, ...] = field(default=(), repr=False)
