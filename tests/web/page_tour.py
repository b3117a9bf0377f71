"""A tour of every GET page of the web admin: a small demo-like world, and the URL of each page in it.

Shared by tests/web/test_layout_browser.py, tests/web/test_vietnamese_pages.py and scripts/screenshots.py,
so that a new page is screenshot and checked as soon as it is routed (`missing_pages` names the ones left out).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from mailadmin.importer.columns import header_labels
from mailadmin.importer.plan import PlanOptions
from mailadmin.model import Role, Unit, UnitKind
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.services.people import people
from mailadmin.wiring import Services
from tests.certs import factory as f
from tests.certs.helpers import cert_for, certificate_service

# Strong (zxcvbn 4) and in nobody's name.
TOUR_PASSWORD = "Bien-xanh-Tuy-An-2026"
ROLES = ("superadmin", "unitadmin", "hr", "auditor", "owner")
# Routes for programs, not people: the JSON API, health checks and metrics.
MACHINE_ROUTES = ("api.", "health.")
# GET endpoints that are not pages: files, JSON, redirects; and the second-factor code page, which exists
# only between a password and its code (tests/web/test_second_factor_*.py visit it); a reorganisation
# job's page, which needs a plan of the whole tree (tests/reorg/test_reorg_http.py visits it).
NOT_PAGES = {"static", "language.choose", "audit.export", "imports.template", "imports.status",
             "mailboxes.export", "mailboxes.suggest", "auth.second_factor", "reorg.status", "reorg.show",
             "mailboxes.bulk_status"}
# Pages that would list the whole directory or log are shown for the world's unit (deterministic in tests).
UNIT_FILTERED = {"audit.index", "mailboxes.index", "lists.index"}
LONG_UNIT_NAME = "Trung tâm Công nghệ thông tin và Truyền thông, Sở Thông tin và Truyền thông"


@dataclass
class World:
    """What the tour's pages show: people with roles, a unit, a bound certificate, an import job."""

    unit: Unit
    people: dict[str, str] = field(default_factory=dict)  # role name → uid
    staff: list[str] = field(default_factory=list)
    fingerprint: str = ""
    job_id: str = ""
    planned_job_id: str = ""
    bulk_job_id: str = ""
    list_name: str = ""
    once_uid: str = ""


@dataclass(frozen=True)
class Stop:
    """One page of the tour."""

    endpoint: str
    name: str
    path: str


def _role_holder(services: Services, name: str, unit: Unit, role: Role | None) -> str:
    """A mailbox with the tour password and, optionally, a role over `unit` (all units for super admins)."""
    uid = services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, password=TOUR_PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    if role is not None:
        scopes = () if role in (Role.SUPERADMIN, Role.AUDITOR) else (unit.path,)
        services.roles.set(dn, frozenset({role}), scopes)
    return uid


def _unit(services: Services, code: str) -> Unit:
    """An agency below the province with a long name (the layout must cope with it)."""
    unit = Unit(code=code, name=f"{LONG_UNIT_NAME} {code}", kind=UnitKind.AGENCY, path=("54", code))
    services.units.store.add(unit)
    services.units.forget()
    return unit


def _staff(services: Services, unit: Unit, count: int) -> list[str]:
    """`count` synthetic officials in the unit, as the demo seeds them."""
    rng = random.Random(unit.code)
    return [services.mailboxes.add(NewMailbox(full_name=p.full_name, unit_code=unit.code, title=p.title,
                                              phone=p.phone)).mailbox.uid for p in people(count, rng)]


def _bind_certificate(services: Services, uid: str) -> str:
    """A government-style certificate bound to the mailbox; its SHA-256 fingerprint."""
    from mailadmin.certs.info import fingerprint_sha256

    now = datetime.now(UTC)
    dates = {"not_before": now - timedelta(days=30), "not_after": now + timedelta(days=20)}
    root = f.root_ca(**dates)
    issuing = f.sub_ca(root, **dates)
    anchors = Path(services.settings.state_dir) / f"tour-anchors-{uid}.pem"  # goes with the state folder
    anchors.write_bytes(f.pem(root.cert))
    issued = cert_for(issuing, services.mailboxes.get(uid), **dates)
    certificate_service(services, trust_anchors=str(anchors)).bind(uid, f.pem(issued.cert, issuing.cert))
    return fingerprint_sha256(issued.cert)


def _staff_file(unit: Unit, first: int, names: tuple[str, ...]) -> bytes:
    """An HR file of new people in the unit and one row with an unknown unit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header_labels())
    for number, name in enumerate(names, start=first):
        writer.writerow([f"TOUR{unit.code}-{number}", name, unit.code, "Chuyên viên", "", "", "", ""])
    writer.writerow([f"TOUR{unit.code}-{first + 90}", "Trần Văn Sai", "KHONG-CO", "", "", "", "", ""])
    if first > 1:  # a change to someone the first file created
        writer.writerow([f"TOUR{unit.code}-1", "Lương Thị Bích Ngọc", unit.code, "Trưởng phòng", "", "", "", ""])
    return buffer.getvalue().encode("utf-8")


def _import_job(services: Services, data: bytes, owner: str, *, apply: bool) -> str:
    """An import job of the file, owned by `owner`: applied, or waiting for confirmation."""
    preview = services.imports.preview(data, "nhan-su.csv", options=PlanOptions(scope=None))
    job = services.imports.start(preview)
    job.save({**job.meta(), "owner": owner})
    if apply:
        services.imports.apply(job)
    return job.id


def _history(services: Services, world: World) -> None:
    """An audit trail with before → after values: an edit, a move, a suspension, a retirement."""
    first, second, third = world.staff[:3]
    services.mailboxes.update(first, title="Phó Giám đốc Trung tâm Công nghệ thông tin", phone="0257 3823 456",
                              hr_id=f"NS-{world.unit.code}-0001", quota_mib=4096, aliases=())
    services.mailboxes.suspend(second)
    services.mailboxes.retire(third)


def build_world(services: Services, code: str = "TOUR") -> World:
    """Units, a few dozen mailboxes, one person per role, a certificate, a list, an import job, an audit trail."""
    world = World(unit=_unit(services, code))
    names = {"superadmin": ("Quản Trị Tỉnh", Role.SUPERADMIN), "unitadmin": ("Quản Trị Đơn Vị", Role.UNITADMIN),
             "hr": ("Cán Bộ Nhân Sự", Role.HR), "auditor": ("Người Kiểm Tra", Role.AUDITOR),
             "owner": ("Chủ Hộp Thư Thường", None)}
    for key, (name, role) in names.items():
        world.people[key] = _role_holder(services, name, world.unit, role)
    world.staff = _staff(services, world.unit, 30)
    world.fingerprint = _bind_certificate(services, world.people["owner"])
    world.list_name = services.lists.create_unit_list(world.unit.code).name
    applied = _staff_file(world.unit, 1, ("Lương Thị Bích Ngọc", "Kpă Y Thuận", "Tôn Nữ Diễm Phương"))
    world.job_id = _import_job(services, applied, world.people["hr"], apply=True)
    planned = _staff_file(world.unit, 4, ("Hồ Thị Thanh Trúc", "Y Moan Niê"))
    world.planned_job_id = _import_job(services, planned, world.people["hr"], apply=False)
    _history(services, world)
    world.once_uid = world.staff[3]
    world.bulk_job_id = _bulk_job(services, world)
    return world


def _bulk_job(services: Services, world: World) -> str:
    """A bulk suspension by the super admin, applied: its job page shows each mailbox's outcome."""
    admin = services.principal(world.people["superadmin"])
    chosen = map(services.mailboxes.get, world.staff[4:7])
    job, _ = services.bulk.start(services.bulk.select(admin, "suspend", chosen), owner=admin.uid)
    services.bulk.apply(job)
    return job.id


def arguments(world: World) -> dict[str, str]:
    """Real values for every URL argument of the app."""
    return {"uid": world.people["owner"], "code": world.unit.code, "unit_code": world.unit.code,
            "name": world.list_name, "fingerprint": world.fingerprint, "job_id": world.job_id}


def stops(app: Flask, world: World) -> list[Stop]:
    """Every GET page of the app's URL map, with the world's values in its URL."""
    values = arguments(world)
    bulk_values = {**values, "job_id": world.bulk_job_id}
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint.startswith(MACHINE_ROUTES):
            continue
        path = rule.rule
        chosen = bulk_values if rule.endpoint.startswith("mailboxes.bulk") else values
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", chosen[argument])
        if rule.endpoint in UNIT_FILTERED:
            path += f"?unit={world.unit.code}"
        found.append(Stop(rule.endpoint, rule.endpoint.replace(".", "-").replace("_", "-"), path))
    return sorted(found + variants(world), key=lambda stop: stop.name)


def variants(world: World) -> list[Stop]:
    """Second looks at pages whose content depends on state: a retired and a suspended mailbox, a plan, a selection."""
    suspended, retired = world.staff[1], world.staff[2]
    return [Stop("mailboxes.show", "mailboxes-show-suspended", f"/mailboxes/{suspended}"),
            Stop("mailboxes.show", "mailboxes-show-retired", f"/mailboxes/{retired}"),
            Stop("imports.show", "imports-show-planned", f"/imports/{world.planned_job_id}"),
            Stop("handover.confirm", "handover-confirm-chosen", f"/handover?uid={world.staff[3]}&uid={suspended}")]
