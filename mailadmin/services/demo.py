"""The demo province: the official unit tree and 6,888 synthetic mailboxes (2,508 / 1,528 / 2,852)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mailadmin.directory import dit
from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.errors import Conflict
from mailadmin.i18n import t
from mailadmin.model import Mailbox, Role, Tier, Unit, UnitKind
from mailadmin.passwords import hash_chosen
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.people import people, spread
from mailadmin.services.units import load_units_file
from mailadmin.settings import Settings

if TYPE_CHECKING:  # the wiring assembles services; these use cases only receive it
    from mailadmin.wiring import Services

# The article's figures (Báo Phú Yên): mailboxes by tier.
DEMO_COUNTS = {Tier.PROVINCE: 2508, Tier.DISTRICT: 1528, Tier.COMMUNE: 2852}
ADMIN_UNIT = "STTTT"
# Province agencies with many staff get a larger share (education, health, the PPC office).
LARGE_AGENCIES = {"SGDDT": 4.0, "SYT": 4.0, "VPUBND": 2.0, "SNNPTNT": 2.0, "STNMT": 1.5}


@dataclass(frozen=True)
class SeedReport:
    """What `demo seed` did."""

    units_created: int
    mailboxes_created: int
    failures: int
    skipped: bool = False


def demo_requests(units: list[Unit], seed: int) -> list[NewMailbox]:
    """Requests for every synthetic mailbox, spread over the units by tier (deterministic)."""
    rng = random.Random(seed)
    requests: list[NewMailbox] = []
    for tier, total in DEMO_COUNTS.items():
        tier_units = [u for u in units if u.tier is tier and u.kind is not UnitKind.PROVINCE]
        weights = [LARGE_AGENCIES.get(u.code, 1.0) for u in tier_units]
        for unit, count in zip(tier_units, spread(total, weights), strict=True):
            for person in people(count, rng, len(requests) + 1):
                requests.append(NewMailbox(full_name=person.full_name, unit_code=unit.code,
                                           title=person.title, phone=person.phone, hr_id=person.hr_id))
    return requests


def admin_request(uid: str, password: str) -> NewMailbox:
    """The demo super admin: one of the province's mailboxes, in the IT department."""
    return NewMailbox(full_name="Quản Trị Hệ Thống", unit_code=ADMIN_UNIT, mail=uid,
                      title="Quản trị hệ thống thư điện tử", hr_id="PY000000", password=password)


def admin_password_path(settings: Settings) -> Path:
    """Where the demo admin's password is kept (state folder, mode 0600)."""
    return settings.state_dir / "secrets" / "demo-admin.password"


def demo_admin_password(settings: Settings) -> str:
    """The demo admin's password, generated on first use."""
    path = admin_password_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    return read_or_create_secret(path)


def demo_people(settings: Settings, units: list[Unit]) -> dict[str, str]:
    """HR id → full name of every mailbox the demo creates (the same for the same demo.seed).

    This is how demo entries are recognised: the generator is deterministic, and an entry whose
    HR id and full name are a pair it produces was made by it. Nothing else is ever touched.
    """
    return _people_of(settings, demo_requests(units, settings.demo.seed))


def _people_of(settings: Settings, requests: list[NewMailbox]) -> dict[str, str]:
    """demo_people from the generator's requests (all of them: the one the admin replaces too)."""
    return {request.hr_id: request.full_name for request in (admin_request(settings.demo.admin_uid, ""), *requests)}


def is_demo(mailbox: Mailbox, people: dict[str, str]) -> bool:
    """Whether the demo created this mailbox."""
    return bool(mailbox.hr_id) and people.get(mailbox.hr_id) == mailbox.name.full


def seed_demo(services: Services, admin_password: str, progress: Callable[[int], None] | None = None,
              *, force: bool = False) -> SeedReport:
    """Load the unit tree and the synthetic staff into a directory without mailboxes.

    A directory holding an earlier demo is skipped (force: that demo is deleted and seeded again);
    one holding any mailbox the demo did not create is refused before anything is written.
    """
    settings = services.settings
    units = load_units_file(settings.resolve(settings.organisation.units_file))
    requests = demo_requests(units, settings.demo.seed)  # generated once: the people and the adds
    people = _people_of(settings, requests)
    demo, foreign = _existing(services, people)
    if foreign and (force or not demo):
        raise _refusal(foreign, force)
    if demo and not force:
        grant_demo_roles(services, people)
        return SeedReport(0, 0, 0, skipped=True)
    _delete(services, demo)
    created_units = services.units.sync(units).created
    requests.pop(_first_in_unit(requests, ADMIN_UNIT))  # the admin is one of the 2,508
    _add_admin(services, admin_password)
    failures = services.mailboxes.add_many(requests, progress)
    grant_demo_roles(services, people)
    return SeedReport(created_units, len(requests) + 1 - len(failures), len(failures))


def _add_admin(services: Services, password: str) -> None:
    """The demo super admin, with the password chosen for it (no change required at first login)."""
    store = services.mailboxes.store
    admin = services.mailboxes.add(admin_request(services.settings.demo.admin_uid, password)).mailbox
    dn = store.dn_of(admin, services.units.get(admin.unit_code).path)
    store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())


def _existing(services: Services, people: dict[str, str]) -> tuple[list[Mailbox], list[Mailbox]]:
    """The directory's mailboxes: (made by the demo, not made by it)."""
    demo: list[Mailbox] = []
    foreign: list[Mailbox] = []
    for mailbox in services.mailboxes.store.search():
        (demo if is_demo(mailbox, people) else foreign).append(mailbox)
    return demo, foreign


def _refusal(foreign: list[Mailbox], force: bool) -> Conflict:
    why = t("--force chỉ thay dữ liệu mẫu cũ", "--force only replaces an earlier demo") if force else \
        t("dữ liệu mẫu chỉ nạp vào thư mục chưa có hộp thư", "demo data only goes into a directory without mailboxes")
    return Conflict(t("Thư mục đã có {n} hộp thư không do dữ liệu mẫu tạo (ví dụ {uid}); {why}: không thay đổi gì",
                      "the directory already holds {n} mailbox(es) the demo did not create (e.g. {uid}); {why_en}: "
                      "nothing changed", n=len(foreign), uid=foreign[0].uid, why=why.render("vi"),
                      why_en=why.render("en")))


def _delete(services: Services, demo: list[Mailbox]) -> None:
    """Delete an earlier demo's mailboxes (only ever called with entries the demo made)."""
    store = services.mailboxes.store
    paths = {code: unit.path for code, unit in services.units.index().units.items()}
    for mailbox in demo:
        services.client.delete(store.dn_of(mailbox, paths[mailbox.unit_code]))
    if demo:
        services.audit.record("demo.delete", "demo", after={"mailboxes": len(demo)})


# Existing synthetic staff given a role in the demo: (role, their unit, the unit they administer).
DEMO_ROLES = ((Role.UNITADMIN, "555", "555"), (Role.HR, ADMIN_UNIT, "54"), (Role.AUDITOR, ADMIN_UNIT, None))


def demo_role_password_path(settings: Settings, role: Role) -> Path:
    """Where a demo role account's password is kept (var/secrets/demo-<role>.password)."""
    return settings.state_dir / "secrets" / f"demo-{role.value}.password"


def demo_role_password(settings: Settings, role: Role) -> str:
    """The password of a demo role account, created on first use."""
    path = demo_role_password_path(settings, role)
    path.parent.mkdir(parents=True, exist_ok=True)
    return read_or_create_secret(path)


def grant_demo_roles(services: Services, people: dict[str, str] | None = None) -> dict[Role, str]:
    """Give the demo roles to demo staff with known passwords (idempotent); returns their uids.

    Only mailboxes the demo created are chosen (`people`, demo_people()); a unit without one
    gets no demo role holder.
    """
    settings = services.settings
    if people is None:
        people = demo_people(settings, load_units_file(settings.resolve(settings.organisation.units_file)))
    store = services.mailboxes.store
    granted: dict[Role, str] = {}
    for role, unit_code, scope in DEMO_ROLES:
        base = dit.unit_dn(services.units.get(unit_code).path, store.base_dn)
        person = _first_demo(store, base, {settings.demo.admin_uid, *granted.values()}, people)
        if person is None:
            continue
        dn = store.dn_of(person, services.units.get(person.unit_code).path)
        store.set_password(dn, hash_chosen(demo_role_password(settings, role), settings.passwords))
        store.clear_password_reset(dn)
        services.roles.set(dn, frozenset({role}), (services.units.get(scope).path,) if scope else ())
        granted[role] = person.uid
    return granted


FIRST_READ = 8  # mailboxes a role holder is first looked for among (the whole unit is read only if need be)


def _first_demo(store: MailboxStore, base: str, taken: set[str], people: dict[str, str]) -> Mailbox | None:
    """The first mailbox below `base`, in the server's order, that the demo made and is not in `taken`.

    A few entries are read, then sixteen times as many while those hold none: not a page of the
    unit's whole staff for one person.
    """
    limit = FIRST_READ
    while True:
        found = list(store.search(base_dn=base, size_limit=limit))
        person = next((m for m in found if m.uid not in taken and is_demo(m, people)), None)
        if person is not None or len(found) < limit:
            return person
        limit *= 16


def _first_in_unit(requests: list[NewMailbox], code: str) -> int:
    return next(i for i, request in enumerate(requests) if request.unit_code == code)

