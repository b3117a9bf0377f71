"""A reorganisation plan file (YAML, docs/reorg.md) -> a checked ReorgFile; every problem names its line and key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from mailadmin.errors import InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.importer.yamlguard import GuardedLoader
from mailadmin.model import UnitKind
from mailadmin.validation import clean_unit_code

MAX_PLAN_BYTES = 4 * 1024 * 1024
CLOSED_UNITS = ("keep", "delete")


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong with a plan file: where (line, key) and why."""

    line: int
    key: str
    message: Text

    def both(self) -> str:
        """'dòng 12, units[3].parent: … (line 12, units[3].parent: …)'."""
        return t("dòng {line}, {key}: {vi}", "line {line}, {key}: {en}", line=self.line, key=self.key,
                 vi=self.message.render("vi"), en=self.message.render("en")).both()


@dataclass(frozen=True)
class NewUnit:
    """A unit of the new structure and the old units it takes over."""

    code: str
    name: str
    kind: UnitKind
    parent: str | None
    takes: tuple[str, ...] = ()
    takes_staff: dict[str, tuple[str, ...]] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True)
class ReorgFile:
    """A parsed plan: the new structure, the address policy, the holding unit and the closed units."""

    id: str
    title: str
    effective: date
    source: str
    domain: str
    keep_local_parts: bool
    old_addresses_until: date | None
    holding: NewUnit
    units: tuple[NewUnit, ...]
    close: tuple[str, ...]
    organisation: dict[str, str] = field(default_factory=dict)
    keep_closed: bool = True  # units that do not go on are kept as history (False: deleted)
    close_line: int = 0  # where `close` is (or the end of the file): problems of old units point there

    def all_units(self) -> tuple[NewUnit, ...]:
        """The new units and the holding unit, parents before children."""
        return (*self.units, self.holding) if self.holding.code not in {u.code for u in self.units} else self.units


class _Problems:
    """Collects problems; a plan with any is refused whole."""

    def __init__(self) -> None:
        self.found: list[PlanProblem] = []

    def add(self, line: int, key: str, message: Text) -> None:
        self.found.append(PlanProblem(line, key, message))


class _Node(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line = 0
    key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(GuardedLoader):
    """safe_load that keeps line numbers, refuses aliases and deep nesting, and reports keys written twice."""

    alias_refused = ("Dòng {line}: YAML có bí danh (*{name}); tệp kế hoạch không được dùng bí danh",
                     "line {line}: YAML alias (*{name}) is not allowed in a plan file")
    too_deep = ("Dòng {line}: YAML lồng nhau quá {n} tầng; tệp kế hoạch chỉ cần 5 tầng",
                "line {line}: YAML nested more than {n} levels deep; a plan file needs 5")

    def __init__(self, text: str, problems: _Problems) -> None:
        super().__init__(text)
        self.problems = problems


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Node:
    _check_unique_keys(node, loader.problems)
    mapping = _Node({str(key): value for key, value in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
    return mapping


def _check_unique_keys(node: yaml.MappingNode, problems: _Problems) -> None:
    """PyYAML keeps the last of two equal keys without a word: in a plan that silently moves people."""
    first: dict[str, int] = {}
    for key, _ in node.value:
        name, line = str(key.value), key.start_mark.line + 1
        if name in first:
            problems.add(line, name, t("khóa được viết hai lần (lần đầu ở dòng {first}); hãy giữ một",
                                       "the key is written twice (first on line {first}); keep one",
                                       first=first[name]))
        first.setdefault(name, line)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> str:
    """A date stays text: _date reads it and names the line; YAML's own reading raises a bare
    ValueError for an impossible day (2025-02-30)."""
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def load_yaml(data: bytes, problems: _Problems) -> _Node:
    """The document as nested mappings with lines (keys written twice go to problems); InvalidInput for
    unreadable files."""
    if len(data) > MAX_PLAN_BYTES:
        raise InvalidInput(t("Tệp kế hoạch lớn hơn {n} MB", "the plan file is larger than {n} MB",
                             n=MAX_PLAN_BYTES // 1024 // 1024))
    try:
        document = _load(data.decode("utf-8-sig"), problems)
    except UnicodeDecodeError:
        raise InvalidInput(t("Tệp kế hoạch phải là UTF-8", "the plan file must be UTF-8")) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInput(t("Tệp kế hoạch không phải YAML hợp lệ (dòng {line}): {e}",
                             "the plan file is not valid YAML (line {line}): {e}",
                             line=mark.line + 1 if mark else "?", e=getattr(exc, "problem", exc))) from None
    if not isinstance(document, _Node):
        raise InvalidInput(t("Tệp kế hoạch phải là một bảng có khóa reorg, addresses, units",
                             "the plan file must be a mapping with the keys reorg, addresses, units"))
    return document


def _load(text: str, problems: _Problems) -> Any:
    loader = _Loader(text, problems)  # a SafeLoader subclass
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_plan(data: bytes) -> tuple[ReorgFile | None, list[PlanProblem]]:
    """The plan and the problems of its shape (references to the directory are checked later)."""
    problems = _Problems()
    document = load_yaml(data, problems)
    head = _section(document, "reorg", problems)
    addresses = _section(document, "addresses", problems)
    holding = _unit(_section(document, "holding_unit", problems), "holding_unit", problems, holding=True)
    units = tuple(_units(document, problems))
    close = tuple(_codes(document, "close", "close", problems, required=False))
    _check_structure(units, holding, close, problems)
    plan = _header(document, head, addresses, problems)
    if problems.found or holding is None or plan is None:
        return None, problems.found
    close_line = document.line_of("close") if "close" in document else len(data.splitlines())
    return ReorgFile(**plan, holding=holding, units=units, close=close, close_line=close_line), []


def _header(document: _Node, head: _Node, addresses: _Node, problems: _Problems) -> dict[str, Any] | None:
    """The plan's identity and address policy (None when a date is unreadable)."""
    effective = _date(head, "effective", "reorg.effective", problems)
    fields = {"id": _text(head, "id", "reorg.id", problems), "title": _text(head, "title", "reorg.title", problems),
              "source": str(head.get("source") or ""), "domain": _domain(addresses, problems),
              "keep_local_parts": addresses.get("keep_local_parts", True) is not False,
              "old_addresses_until": _date(addresses, "old_addresses_until", "addresses.old_addresses_until",
                                           problems, required=False),
              "organisation": {k: str(v) for k, v in (document.get("organisation") or {}).items()},
              "keep_closed": _closed_units(head, problems)}
    if not fields["keep_local_parts"]:
        problems.add(addresses.line_of("keep_local_parts"), "addresses.keep_local_parts",
                     t("chỉ hỗ trợ giữ nguyên phần trước @ (true)", "only keeping the local parts (true) is supported"))
    return {**fields, "effective": effective} if effective else None


def _closed_units(head: _Node, problems: _Problems) -> bool:
    """`closed_units`: keep (as history, the default) or delete the units that do not go on."""
    value = str(head.get("closed_units", CLOSED_UNITS[0])).strip().lower()
    if value not in CLOSED_UNITS:
        problems.add(head.line_of("closed_units"), "reorg.closed_units", t(
            "cần keep (giữ làm lịch sử) hoặc delete (xóa), không phải {v}",
            "keep (as history) or delete is needed, not {v}", v=value))
    return value != "delete"


def _section(document: _Node, key: str, problems: _Problems) -> _Node:
    value = document.get(key)
    if isinstance(value, _Node):
        return value
    problems.add(document.line_of(key), key, t("cần một bảng (mapping)", "a mapping is needed"))
    return _Node()


def _text(node: _Node, key: str, where: str, problems: _Problems) -> str:
    value = node.get(key)
    if value is None or not str(value).strip():
        problems.add(node.line_of(key), where, t("thiếu giá trị", "a value is missing"))
        return ""
    return str(value).strip()


def _date(node: _Node, key: str, where: str, problems: _Problems, required: bool = True) -> date | None:
    value = node.get(key)
    if value is None and not required:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(node.line_of(key), where, t("cần một ngày dạng YYYY-MM-DD, không phải {v}",
                                                 "a date YYYY-MM-DD is needed, not {v}", v=value))
        return None


def _domain(node: _Node, problems: _Problems) -> str:
    domain = str(node.get("domain") or "").strip().lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(label and label.replace("-", "").isalnum() and label.isascii() for label in labels):
        problems.add(node.line_of("domain"), "addresses.domain",
                     t("tên miền không hợp lệ: {d}", "not a valid domain: {d}", d=domain or "—"))
    return domain


def _code(value: Any, line: int, where: str, problems: _Problems) -> str:
    try:
        return clean_unit_code(str(value if value is not None else ""))
    except InvalidInput as error:
        problems.add(line, where, error.message)
        return ""


def _codes(node: _Node, key: str, where: str, problems: _Problems, required: bool = True) -> list[str]:
    value = node.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        problems.add(node.line_of(key), where, t("cần một danh sách mã đơn vị", "a list of unit codes is needed"))
        return []
    return [_code(item, node.line_of(key), f"{where}[{i}]", problems) for i, item in enumerate(value)]


def _units(document: _Node, problems: _Problems) -> Iterable[NewUnit]:
    items = document.get("units")
    if not isinstance(items, list) or not items:
        problems.add(document.line_of("units"), "units", t("cần một danh sách đơn vị", "a list of units is needed"))
        return
    for index, item in enumerate(items):
        unit = _unit(item, f"units[{index}]", problems)
        if unit is not None:
            yield unit


def _unit(node: Any, where: str, problems: _Problems, holding: bool = False) -> NewUnit | None:
    if not isinstance(node, _Node):
        problems.add(getattr(node, "line", 0), where, t("mỗi đơn vị phải là một bảng", "each unit must be a mapping"))
        return None
    code = _code(node.get("code"), node.line_of("code"), f"{where}.code", problems)
    name = _text(node, "name", f"{where}.name", problems)
    kind = _kind(node, where, problems)
    parent = node.get("parent")
    takes = tuple(_codes(node, "takes", f"{where}.takes", problems, required=False))
    staff = _takes_staff(node, where, problems)
    if kind is None or not code or not name:
        return None
    return NewUnit(code, name, kind, None if parent is None else _code(parent, node.line_of("parent"),
                                                                        f"{where}.parent", problems),
                   () if holding else takes, {} if holding else staff, node.line)


def _kind(node: _Node, where: str, problems: _Problems) -> UnitKind | None:
    try:
        return UnitKind(str(node.get("kind")))
    except ValueError:
        problems.add(node.line_of("kind"), f"{where}.kind", t(
            "loại đơn vị không hợp lệ: {k} (có: {known})", "invalid unit kind: {k} (known: {known})",
            k=node.get("kind"), known=", ".join(kind.value for kind in UnitKind)))
        return None


def _takes_staff(node: _Node, where: str, problems: _Problems) -> dict[str, tuple[str, ...]]:
    value = node.get("takes_staff")
    if value is None:
        return {}
    if not isinstance(value, _Node) or not all(isinstance(ids, list) for ids in value.values()):
        problems.add(node.line_of("takes_staff"), f"{where}.takes_staff",
                     t("cần bảng: mã đơn vị cũ → danh sách mã nhân sự", "a mapping old unit code → list of HR ids"))
        return {}
    return {_code(old, value.line_of(str(old)), f"{where}.takes_staff", problems): tuple(str(i).strip() for i in ids)
            for old, ids in value.items()}


def _check_structure(units: tuple[NewUnit, ...], holding: NewUnit | None, close: tuple[str, ...],
                     problems: _Problems) -> None:
    """Codes unique, parents listed before their children, one top unit."""
    seen: set[str] = set()
    for index, unit in enumerate(units):
        where = f"units[{index}]"
        if unit.code in seen:
            problems.add(unit.line, f"{where}.code", t("mã {code} lặp lại", "the code {code} is repeated",
                                                       code=unit.code))
        if unit.parent is not None and unit.parent not in seen:
            problems.add(unit.line, f"{where}.parent", t(
                "đơn vị cha {p} phải được liệt kê trước", "the parent {p} must be listed before", p=unit.parent))
        seen.add(unit.code)
    if sum(1 for unit in units if unit.parent is None) != 1:
        problems.add(units[0].line if units else 0, "units",
                     t("cần đúng một đơn vị gốc (parent: null)", "exactly one top unit (parent: null) is needed"))
    if holding is not None and holding.parent not in seen:
        problems.add(holding.line, "holding_unit.parent",
                     t("đơn vị cha {p} không có trong units", "the parent {p} is not in units", p=holding.parent))
