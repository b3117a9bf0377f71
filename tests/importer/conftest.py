"""Fixtures for import tests against the real session slapd: people files for a test's own unit."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from mailadmin.importer.plan import PlanOptions, comparable
from mailadmin.model import Unit, UnitKind
from mailadmin.wiring import Services

_numbers = itertools.count(1)


def new_unit(services: Services, parent: Unit | None = None) -> Unit:
    """Another agency of the test's own (a move target)."""
    code = f"IM{next(_numbers)}"
    path = (*(parent.path if parent else ("54",)), code)
    created = Unit(code=code, name=f"Đơn vị nhập {code}", kind=UnitKind.AGENCY, path=path)
    services.units.store.add(created)
    services.units.forget()
    return created


def import_file(services: Services, data: bytes, name: str = "staff.csv", report: Path | None = None,
                **options: Any) -> dict[str, Any]:
    """Preview, journal and apply a file, as the CLI does."""
    preview = services.imports.preview(data, name, None, PlanOptions(**options))
    job = services.imports.start(preview)
    return services.imports.apply(job, report=report)


def state_of(services: Services, unit: Unit) -> dict[str, dict[str, object]]:
    """What an import decides about every mailbox below a unit."""
    return {m.uid: comparable(m) for m in services.imports.export(unit.code)}


@pytest.fixture
def other_unit(services: Services) -> Unit:
    return new_unit(services)
