"""The shipped reorganisation plan (config/reorg/2025-phuyen-daklak.yaml) against config/units.yaml.

Plain YAML reading on purpose: this checks the data, not the plan parser that applies it.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from mailadmin.resources import project_path

NEW_KINDS = {"province", "agency", "commune", "ward", "special_zone"}
DISTRICTS = ["555", "557", "558", "559", "560", "561", "562", "563", "564"]


def _walk(units: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for unit in units:
        yield unit
        yield from _walk(unit.get("children", []))


@pytest.fixture(scope="module")
def old_codes() -> dict[str, str]:
    """Code → kind of every unit of config/units.yaml."""
    tree = yaml.safe_load(project_path("config", "units.yaml").read_text(encoding="utf-8"))
    return {str(u["code"]): u["kind"] for u in _walk(tree["units"])}


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    """The shipped plan as plain YAML."""
    path = project_path("config", "reorg", "2025-phuyen-daklak.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_old_unit_is_accounted_for_exactly_once(plan: dict[str, Any], old_codes: dict[str, str]) -> None:
    mentions = Counter([code for unit in plan["units"] for code in unit["takes"]] + plan["close"])
    assert {code for code, n in mentions.items() if n > 1} == set()
    assert set(mentions) == set(old_codes)
    assert len(old_codes) == 137


def test_the_districts_are_closed_and_the_province_taken_over(plan: dict[str, Any]) -> None:
    assert plan["close"] == DISTRICTS
    assert plan["units"][0] == {"code": "66", "name": "Tỉnh Đắk Lắk", "kind": "province", "parent": None,
                                "takes": ["54"]}


def test_34_communes_and_wards_take_the_106(plan: dict[str, Any], old_codes: dict[str, str]) -> None:
    local = [u for u in plan["units"] if u["kind"] in {"commune", "ward", "special_zone"}]
    assert len(local) == 34
    assert Counter(u["kind"] for u in local) == {"commune": 27, "ward": 7}
    taken = [code for u in local for code in u["takes"]]
    assert sorted(taken) == sorted(c for c, kind in old_codes.items() if kind == "commune")


def test_kinds_parents_and_codes(plan: dict[str, Any]) -> None:
    units = [*plan["units"], plan["holding_unit"]]
    codes = [str(u["code"]) for u in units]
    assert len(codes) == len(set(codes))
    assert {u["kind"] for u in units} <= NEW_KINDS
    seen: set[str] = set()
    for unit in plan["units"]:
        assert unit["parent"] is None or unit["parent"] in seen, unit["code"]
        seen.add(unit["code"])
    assert plan["holding_unit"]["parent"] in seen


def test_names_are_nfc_with_one_spelling(plan: dict[str, Any]) -> None:
    names = [u["name"] for u in [*plan["units"], plan["holding_unit"]]] + [plan["organisation"]["name"]]
    assert all(unicodedata.is_normalized("NFC", name) for name in names)
    assert not [name for name in names if "Hoà" in name]
    assert "Sở Nông nghiệp và Môi trường" in names and "Sở Kế hoạch và Đầu tư" not in names


def test_agency_mergers(plan: dict[str, Any]) -> None:
    takes = {u["code"]: set(u["takes"]) for u in plan["units"] if u["kind"] == "agency"}
    assert takes["STC"] == {"STC", "SKHDT"} and takes["SXD"] == {"SXD", "SGTVT"}
    assert takes["SNNMT"] == {"SNNPTNT", "STNMT"} and takes["SKHCN"] == {"SKHCN", "STTTT"}
    assert takes["SNV"] == {"SNV", "SLDTBXH"}


def test_header_keys(plan: dict[str, Any]) -> None:
    assert plan["reorg"]["id"] == "2025-phuyen-daklak"
    assert plan["reorg"]["effective"] == datetime.date(2025, 7, 1)
    assert "vietnam-provinces" in plan["reorg"]["source"]
    assert plan["addresses"] == {"domain": "daklak.gov.vn", "keep_local_parts": True,
                                 "old_addresses_until": datetime.date(2026, 6, 30)}
    assert plan["holding_unit"]["code"] == "CHOXEP"
