"""The official unit list and the tree it becomes in the directory."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from mailadmin.errors import InvalidInput
from mailadmin.model import Tier, UnitKind
from mailadmin.resources import project_path
from mailadmin.services.units import UnitIndex, load_units_file
from mailadmin.wiring import Services

DISTRICTS = ["555", "557", "558", "559", "560", "561", "562", "563", "564"]


def test_shipped_unit_list() -> None:
    units = load_units_file(project_path("config", "units.yaml"))
    index = UnitIndex.of(units)
    province = index.get("54")
    assert province.kind is UnitKind.PROVINCE and province.name == "Tỉnh Phú Yên"
    assert [u.code for u in units if u.kind is UnitKind.DISTRICT] == DISTRICTS
    assert len([u for u in units if u.kind is UnitKind.AGENCY]) >= 20
    communes = [u for u in units if u.kind is UnitKind.COMMUNE]
    assert len(communes) == 106
    assert all(22015 <= int(u.code) <= 22324 and u.parent_code in DISTRICTS for u in communes)
    assert all(unicodedata.is_normalized("NFC", u.name) for u in units)
    assert index.get("22015").tier is Tier.COMMUNE and index.get("555").tier is Tier.DISTRICT
    assert index.get("SYT").tier is Tier.PROVINCE


def test_the_directory_holds_the_same_tree(services: Services) -> None:
    shipped = {u.code: u for u in load_units_file(project_path("config", "units.yaml"))}
    held = services.units.index().units
    assert all(held[code] == unit for code, unit in shipped.items())


def test_loading_twice_changes_nothing(services: Services) -> None:
    report = services.units.sync(load_units_file(project_path("config", "units.yaml")))
    assert (report.created, report.renamed) == (0, 0)


@pytest.mark.parametrize(("content", "message"), [
    ("units: 5\n", "expected a key 'units'"),
    ("units:\n  - code: '54'\n    name: A\n    kind: planet\n", "invalid kind"),
    ("units:\n  - code: '5 4'\n    name: A\n    kind: province\n", "invalid unit code"),
    ("units:\n  - code: system\n    name: A\n    kind: province\n", "reserved"),
    ("units:\n  - {code: A, name: X, kind: province}\n  - {code: A, name: Y, kind: agency}\n", "duplicate"),
    ("units:\n  - {code: A, kind: province}\n", "has no name"),
])
def test_bad_unit_files_are_explained(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        load_units_file(path)


# A final oa/oe/uy with the tone on its second vowel ("Hoà", "Thuỷ"), in NFD; "Quý" is q + uý, not uy.
OLD_STYLE_TONE = re.compile(r"(?<![qQ])(?:[oO][aAeE]|[uU][yY])[\u0300\u0301\u0303\u0309\u0323](?!\w)")


def test_one_spelling_of_hoa_as_the_official_list() -> None:
    """Issue 12: the tree mixed 'Hoà' and 'Hòa'; the 2025 official names write 'Hòa' (scripts/gen_units.py)."""
    names = [u.name for u in load_units_file(project_path("config", "units.yaml"))]
    assert [n for n in names if OLD_STYLE_TONE.search(unicodedata.normalize("NFD", n))] == []
    assert {"Thành phố Tuy Hòa", "Huyện Phú Hòa", "Phường Hòa Vinh"} <= set(names)
    assert OLD_STYLE_TONE.search(unicodedata.normalize("NFD", "Phường Hoà Vinh"))
    assert not OLD_STYLE_TONE.search(unicodedata.normalize("NFD", "Xã Vinh Quý Huỳnh"))
