"""A checked plan file + the directory as it is -> the typed writes of the reorganisation (pure).

The writes, in order (each DN as it is when its write runs):
 1. units, parents first: a new unit that takes an old one over *carries* it (the old entry is renamed
    and/or moved below its new parent with its whole subtree, then given its new name, kind and
    history), else it is created;
 2. every mailbox gets the new domain (old addresses kept as aliases) and the tier of its new unit;
 3. mailboxes of units that do not go on move to their new unit (modDN: certificates, aliases,
    list memberships through refint/memberof and delegations go with the entry);
 4. per-unit lists (ds-CODE) of the old units are replaced by one per new unit, holding its staff
    and answering the old lists' addresses; other lists move with their unit;
 5. administrators of units that do not go on are given the successor unit;
 6. units that do not go on, now empty, deepest first: kept as history (moved to ou=history with their
    last day, maValidTo, and the code of the unit that took them over, maSuccessor; the holding unit for
    closed ones), or deleted when the plan says `closed_units: delete`; with them (unless deleted), a
    history entry for each old code carried on under a new code (its old name and kind, its successor).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from mailadmin.directory import dit
from mailadmin.directory.mapping import generalized_time
from mailadmin.i18n import Text, t
from mailadmin.importer.ops import ADD, DELETE, MODIFY, MOVE, Op, Values
from mailadmin.importer.reorgfile import NewUnit, PlanProblem, ReorgFile
from mailadmin.model import Status, UnitKind
from mailadmin.names import UNIT_LIST_PREFIX, AddressAllocator, Refusal, held_local_parts, hr_id_key, search_key
from mailadmin.services.mailboxes import claim_addresses, new_domain_addresses
from mailadmin.services.units import UnitIndex

LIST_CLASSES = ["top", "groupOfNames", "inetLocalMailRecipient"]


@dataclass(frozen=True)
class Row:
    """An entry as read before planning: its DN and user attributes (text)."""

    dn: str
    attrs: Values

    def values(self, name: str) -> list[str]:
        """Every value of an attribute (names are kept lower-case)."""
        return self.attrs.get(name.lower(), [])

    def one(self, name: str) -> str:
        """The first value of an attribute, or ''."""
        values = self.values(name)
        return values[0] if values else ""


@dataclass(frozen=True)
class Present:
    """The directory as the plan sees it, read once."""

    base_dn: str
    units: UnitIndex
    unit_rows: dict[str, Row]      # old unit code -> its entry
    mailboxes: list[Row]
    lists: list[Row]
    admins: list[Row]              # entries holding maAdminOf
    old_domain: str
    former: frozenset[str] = frozenset()  # codes already kept in the history container
    history_exists: bool = False          # is there a history container yet?
    others: list[Row] = field(default_factory=list)  # other entries holding a uid or an address
    reserved: tuple[str, ...] = ()        # settings addresses.reserved: local parts nobody may be given


@dataclass
class Reorg:
    """The plan's writes and what the preview shows."""

    ops: list[Op] = field(default_factory=list)
    problems: list[PlanProblem] = field(default_factory=list)
    units: list[dict[str, object]] = field(default_factory=list)
    moving: int = 0
    readdressed: int = 0
    closed: list[str] = field(default_factory=list)
    held: int = 0
    rescoped: int = 0

    def add(self, kind: str, dn: str, subject: str, bulk: bool = False, **values: object) -> None:
        self.ops.append(Op(len(self.ops), kind, dn, subject, bulk=bulk, **values))  # type: ignore[arg-type]

    def summary(self) -> dict[str, object]:
        """Counts and per-unit before -> after for the preview and the job."""
        return {"units": self.units, "writes": dict(Counter(op.kind for op in self.ops)),
                "mailboxes_moving": self.moving, "addresses_changing": self.readdressed,
                "units_closed": self.closed, "to_holding_unit": self.held, "admins_rescoped": self.rescoped,
                "conflicts": [{"line": p.line, "key": p.key, "vi": p.message.render("vi"),
                               "en": p.message.render("en")} for p in self.problems]}


class _Tree:
    """The unit tree as it stands while the writes run, so that each write gets the DN of its time."""

    def __init__(self, units: UnitIndex, base_dn: str) -> None:
        self.base_dn = base_dn
        self.parent: dict[str, str | None] = {f"old:{u.code}": (f"old:{u.parent_code}" if u.parent_code else None)
                                              for u in units.units.values()}
        self.code = {f"old:{u.code}": u.code for u in units.units.values()}

    def path(self, node: str) -> tuple[str, ...]:
        codes: list[str] = []
        current: str | None = node
        while current is not None:
            codes.append(self.code[current])
            current = self.parent[current]
        return tuple(reversed(codes))

    def dn(self, node: str) -> str:
        return dit.unit_dn(self.path(node), self.base_dn)

    def inside(self, node: str, ancestor: str) -> bool:
        current: str | None = node
        while current is not None:
            if current == ancestor:
                return True
            current = self.parent[current]
        return False


def check_references(plan: ReorgFile, present: Present) -> list[PlanProblem]:
    """Every old unit accounted for exactly once; codes and HR ids that exist; no code clash."""
    problems: list[PlanProblem] = []
    old = present.units.units
    claimed: dict[str, int] = {}
    for unit in plan.units:
        for code in unit.takes:
            _claim(code, unit.line, f"{unit.code}.takes", claimed, old, problems)
        if unit.code in old and unit.code not in unit.takes:
            problems.append(PlanProblem(unit.line, f"{unit.code}.code", t(
                "mã {code} là của một đơn vị cũ mà đơn vị mới này không tiếp nhận",
                "the code {code} belongs to an old unit this new unit does not take over", code=unit.code)))
    for code in plan.close:
        _claim(code, plan.close_line, "close", claimed, old, problems)
    for code in sorted(set(old) - set(claimed)):
        problems.append(PlanProblem(plan.close_line, "units/close", t(
            "đơn vị cũ {code} không được đơn vị mới nào tiếp nhận và không đóng",
            "the old unit {code} is neither taken over by a new unit nor closed", code=code)))
    if plan.holding.code in old and plan.holding.code not in {u.code for u in plan.units}:
        problems.append(PlanProblem(plan.holding.line, "holding_unit.code", t(
            "đơn vị chờ {code} trùng mã một đơn vị cũ", "the holding unit {code} has the code of an old unit",
            code=plan.holding.code)))
    return problems + _check_staff(plan, present)


def _claim(code: str, line: int, key: str, claimed: dict[str, int], old: Mapping[str, object],
           problems: list[PlanProblem]) -> None:
    if code not in old:
        problems.append(PlanProblem(line, key, t("không có đơn vị cũ mã {code}", "no old unit with code {code}",
                                                 code=code)))
    elif code in claimed:
        problems.append(PlanProblem(line, key, t("đơn vị cũ {code} đã được tiếp nhận hoặc đóng ở nơi khác",
                                                 "the old unit {code} is already taken over or closed elsewhere",
                                                 code=code)))
    claimed[code] = line


def _check_staff(plan: ReorgFile, present: Present) -> list[PlanProblem]:
    problems: list[PlanProblem] = []
    by_unit: dict[tuple[str, str], Row] = {}
    for row in present.mailboxes:
        by_unit[(_unit_of(row, present.base_dn), hr_id_key(row.one("employeeNumber")))] = row
    listed: set[str] = set()
    for unit in plan.units:
        for old_code, hr_ids in unit.takes_staff.items():
            for hr_id in hr_ids:
                if (old_code, hr_id_key(hr_id)) not in by_unit:
                    problems.append(PlanProblem(unit.line, f"{unit.code}.takes_staff.{old_code}", t(
                        "không có cán bộ mã {hr} trong đơn vị {code}", "no staff member {hr} in unit {code}",
                        hr=hr_id, code=old_code)))
                elif hr_id_key(hr_id) in listed:
                    problems.append(PlanProblem(unit.line, f"{unit.code}.takes_staff.{old_code}", t(
                        "cán bộ {hr} được liệt kê hai lần", "the staff member {hr} is listed twice", hr=hr_id)))
                listed.add(hr_id_key(hr_id))
    return problems


def _unit_of(row: Row, base_dn: str) -> str:
    path = dit.parent_unit_path(row.dn, base_dn)
    return path[-1] if path else ""


def make_reorg(plan: ReorgFile, present: Present) -> Reorg:
    """Every write of the reorganisation, computed before anything is written."""
    reorg = Reorg(problems=check_references(plan, present))
    if reorg.problems:
        return reorg
    tree = _Tree(present.units, present.base_dn)
    successor = _successors(plan)
    _anchor_admins(present, reorg)
    nodes: dict[str, str] = {}
    for unit in plan.all_units():
        nodes[unit.code] = _place_unit(unit, plan, present, tree, nodes, reorg)
    destination = _destinations(plan, present, successor)
    book = _address_book(present, plan.domain)
    _readdress(plan, present, tree, destination, book, reorg)
    _move_mailboxes(present, tree, destination, nodes, reorg)
    _rebuild_lists(plan, present, tree, destination, nodes, successor, book, reorg)
    _rescope_admins(present, tree, nodes, {old: successor[old] for old in successor if old not in plan.close},
                    destination, reorg)
    _close_vanished(plan, present, tree, nodes, successor, reorg)
    _describe_units(plan, present, destination, reorg)
    return reorg


def _successors(plan: ReorgFile) -> dict[str, str]:
    """Old unit code -> the new unit that takes it over (closed ones: the holding unit)."""
    found = {old: unit.code for unit in plan.units for old in unit.takes}
    found.update((old, plan.holding.code) for old in plan.close)
    return found


def _place_unit(unit: NewUnit, plan: ReorgFile, present: Present, tree: _Tree, nodes: dict[str, str],
                reorg: Reorg) -> str:
    """Carry an old unit (rename / move it) or create the new one; returns its node in the tree."""
    parent = nodes[unit.parent] if unit.parent else None
    carrier = _carrier(unit, tree, parent)
    history = {"maValidFrom": [generalized_time(plan.effective)],
               "maPredecessor": list(dict.fromkeys([*unit.takes, *unit.takes_staff]))}
    looks = {"displayName": [unit.name], "maUnitKind": [unit.kind.value], "maSearchName": [search_key(unit.name)]}
    if carrier is None:
        node = f"new:{unit.code}"
        tree.parent[node], tree.code[node] = parent, unit.code
        entry = {"objectClass": ["top", "organizationalUnit", "maUnit"], "ou": [unit.code], **looks, **history}
        reorg.add(ADD, tree.dn(node), f"unit:{unit.code}", after={k: v for k, v in entry.items() if v})
        return node
    if tree.code[carrier] != unit.code or tree.parent[carrier] != parent:
        before_dn = tree.dn(carrier)
        tree.parent[carrier], tree.code[carrier] = parent, unit.code
        reorg.add(MOVE, before_dn, f"unit:{unit.code}", target=tree.dn(carrier))
    row = present.unit_rows[carrier.removeprefix("old:")]
    wanted = {**looks, **history}
    reorg.add(MODIFY, tree.dn(carrier), f"unit:{unit.code}",
              before={k: row.values(k) for k in wanted}, after=wanted)
    return carrier


def _carrier(unit: NewUnit, tree: _Tree, parent: str | None) -> str | None:
    """The old unit this new one continues: the one with its code, else the first it takes (no cycles)."""
    ordered = sorted(unit.takes, key=lambda code: code != unit.code)
    for code in ordered:
        node = f"old:{code}"
        if parent is None or not tree.inside(parent, node):
            return node
    return None


def _destinations(plan: ReorgFile, present: Present, successor: dict[str, str]) -> dict[str, str]:
    """Mailbox DN -> the code of its new unit."""
    split = {(old, hr_id_key(hr_id)): unit.code
             for unit in plan.units for old, ids in unit.takes_staff.items() for hr_id in ids}
    found = {}
    for row in present.mailboxes:
        old = _unit_of(row, present.base_dn)
        found[row.dn] = split.get((old, hr_id_key(row.one("employeeNumber"))), successor.get(old, plan.holding.code))
    return found


def _current_dn(row: Row, present: Present, tree: _Tree) -> str:
    """A mailbox's or list's DN once the units are placed (their unit may have been renamed or moved)."""
    return f"{row.dn.split(',', 1)[0]},{tree.dn('old:' + _unit_of(row, present.base_dn))}"


def _address_book(present: Present, domain: str) -> AddressAllocator:
    """Who holds each local part of the new domain before the plan (a uid holds its own in every domain),
    for the mailbox service's rule (claim_addresses). The per-unit lists are left out: every one of them
    is deleted, its addresses handed on to the new unit's list."""
    holders: dict[str, set[str]] = {}
    kept_lists = [row for row in present.lists if not row.one("cn").startswith(UNIT_LIST_PREFIX)]
    for row in [*present.mailboxes, *kept_lists, *present.others]:
        for local in held_local_parts(row.values("uid"), row.values("mail") + row.values("mailLocalAddress"),
                                      domain):
            holders.setdefault(local, set()).add(row.dn)
    return AddressAllocator.of_holders(holders, present.reserved)


def _give(book: AddressAllocator, addresses: list[str], domain: str, holder: str, key: str, reorg: Reorg,
           unit_list: bool = False) -> None:
    """The new domain's addresses given to `holder` by the mailbox service's rule; a refused one is a conflict."""
    for address, refusal in claim_addresses(book, addresses, domain, holder, unit_list=unit_list):
        reorg.problems.append(PlanProblem(0, key, _refused(address, refusal)))


def _gained(after: list[str], before: list[str]) -> list[str]:
    """The addresses an entry is given (one it holds already is no new claim, whoever else holds it too)."""
    held = {address.lower() for address in before}
    return [address for address in after if address.lower() not in held]


def _refused(address: str, refusal: Refusal) -> Text:
    if refusal.reserved:
        return t("địa chỉ mới {a} là địa chỉ dành riêng, không cấp cho ai", "the new address {a} is reserved",
                 a=address)
    return t("địa chỉ mới {a} đã thuộc về {o}", "the new address {a} already belongs to {o}", a=address,
             o=refusal.holder)


def _readdress(plan: ReorgFile, present: Present, tree: _Tree, destination: dict[str, str], book: AddressAllocator,
               reorg: Reorg) -> None:
    kinds = {unit.code: unit.kind for unit in plan.all_units()}
    for row in present.mailboxes:
        before = {k: row.values(k) for k in ("mail", "mailLocalAddress", "maTier", "maOldAddressUntil")}
        after = _new_addresses(row, plan, present.old_domain, kinds[destination[row.dn]])
        _give(book, _gained(after["mailLocalAddress"], before["mailLocalAddress"]), plan.domain, row.dn,
              f"mailbox {row.one('uid')}", reorg)
        if after != before:
            reorg.readdressed += after["mail"] != before["mail"]
            reorg.add(MODIFY, _current_dn(row, present, tree), f"mailbox:{row.one('uid')}", bulk=True,
                      before=before, after=after)


def _new_addresses(row: Row, plan: ReorgFile, old_domain: str, kind: UnitKind) -> Values:
    """The new domain's address first, every old address kept (as an alias) until the plan's date."""
    mail = row.one("mail")
    local, _, domain = mail.rpartition("@")
    new_mail = f"{local}@{plan.domain}" if domain.lower() == old_domain.lower() else mail
    addresses = list(dict.fromkeys([new_mail, *new_domain_addresses(row.values("mailLocalAddress"), plan.domain,
                                                                    old_domain)]))
    until = [generalized_time(plan.old_addresses_until)] if plan.old_addresses_until and new_mail != mail else \
        row.values("maOldAddressUntil")
    return {"mail": [new_mail], "mailLocalAddress": addresses, "maTier": [kind.tier.value],
            "maOldAddressUntil": until}


def _move_mailboxes(present: Present, tree: _Tree, destination: dict[str, str], nodes: dict[str, str],
                    reorg: Reorg) -> None:
    for row in present.mailboxes:
        source = f"old:{_unit_of(row, present.base_dn)}"
        target = nodes[destination[row.dn]]
        if source != target:
            rdn = row.dn.split(",", 1)[0]
            reorg.moving += 1
            reorg.add(MOVE, f"{rdn},{tree.dn(source)}", f"mailbox:{row.one('uid')}", bulk=True,
                      target=f"{rdn},{tree.dn(target)}")


def _rebuild_lists(plan: ReorgFile, present: Present, tree: _Tree, destination: dict[str, str],
                   nodes: dict[str, str], successor: dict[str, str], book: AddressAllocator, reorg: Reorg) -> None:
    """Old per-unit lists go; each new unit whose predecessors had one gets its own, with their addresses."""
    old_addresses: dict[str, list[str]] = {}
    for row in present.lists:
        unit = _unit_of(row, present.base_dn)
        if row.one("cn").startswith(UNIT_LIST_PREFIX):
            old_addresses.setdefault(successor[unit], []).extend(row.values("mailLocalAddress"))
            reorg.add(DELETE, _current_dn(row, present, tree), f"list:{row.one('cn')}", before=row.attrs)
        else:
            _carry_list(row, plan, present, tree, nodes[successor[unit]], book, reorg)
    for code, addresses in old_addresses.items():
        _unit_list(code, addresses, plan, present, tree, destination, nodes, book, reorg)


def _carry_list(row: Row, plan: ReorgFile, present: Present, tree: _Tree, node: str, book: AddressAllocator,
                reorg: Reorg) -> None:
    """A list of people's own choosing: its addresses in the new domain too, then to its unit's successor."""
    addresses = row.values("mailLocalAddress")
    wanted = new_domain_addresses(addresses, plan.domain, present.old_domain)
    _give(book, _gained(wanted, addresses), plan.domain, row.dn, f"list {row.one('cn')}", reorg)
    if wanted != addresses:
        reorg.add(MODIFY, _current_dn(row, present, tree), f"list:{row.one('cn')}",
                  before={"mailLocalAddress": addresses}, after={"mailLocalAddress": wanted})
    if node != f"old:{_unit_of(row, present.base_dn)}":
        reorg.add(MOVE, _current_dn(row, present, tree), f"list:{row.one('cn')}",
                  target=f"{row.dn.split(',', 1)[0]},{tree.dn(node)}")


def _unit_list(code: str, addresses: list[str], plan: ReorgFile, present: Present, tree: _Tree,
               destination: dict[str, str], nodes: dict[str, str], book: AddressAllocator, reorg: Reorg) -> None:
    below = _subtree_codes(code, plan)
    members = [f"{row.dn.split(',', 1)[0]},{tree.dn(nodes[destination[row.dn]])}" for row in present.mailboxes
               if destination[row.dn] in below and row.one("maAccountStatus") in ("", Status.ACTIVE.value)]
    if not members:
        return
    name = f"{UNIT_LIST_PREFIX}{code.lower()}"
    unit_name = next(unit.name for unit in plan.all_units() if unit.code == code)
    entry = {"objectClass": LIST_CLASSES, "cn": [name],
             "mailLocalAddress": list(dict.fromkeys([f"{name}@{plan.domain}", *addresses])),
             "description": [f"Toàn bộ cán bộ {unit_name} / all staff of {unit_name}"], "member": members}
    dn = f"{dit.rdn('cn', name)},{tree.dn(nodes[code])}"
    _give(book, entry["mailLocalAddress"], plan.domain, dn, f"list {name}", reorg, unit_list=True)
    reorg.add(ADD, dn, f"list:{name}", after=entry)


def _subtree_codes(code: str, plan: ReorgFile) -> set[str]:
    found = {code}
    for unit in plan.all_units():  # parents come before children
        if unit.parent in found:
            found.add(unit.code)
    return found


def _anchor_admins(present: Present, reorg: Reorg) -> None:
    """First write: every administrator's scopes as they are (a no-op), so that undo ends by restoring them.

    refint rewrites scope DNs after unit renames and moves, but not reliably when the administrator's
    own entry moves with the renamed subtree (undo of the province's rename): the undo of this write,
    the last one of an undo, puts the exact values back.
    """
    for row in present.admins:
        scopes = {"maAdminOf": row.values("maAdminOf")}
        reorg.add(MODIFY, row.dn, f"admin:{row.one('uid')}", before=scopes, after=scopes)


def _rescope_admins(present: Present, tree: _Tree, nodes: dict[str, str], successor: dict[str, str],
                    destination: dict[str, str], reorg: Reorg) -> None:
    """Scopes written out for the new tree: a merged unit's administrators get its successor, a closed
    unit's lose that scope (the holding unit is nobody's to administer). Written whatever refint did."""
    carried = set(nodes.values())
    for row in present.admins:
        before = [tree.dn(f"old:{dit.unit_path_of(dn, present.base_dn)[-1]}") for dn in row.values("maAdminOf")]
        after = [dn for dn in dict.fromkeys(_scope_after(dn, present, tree, nodes, successor, carried)
                                            for dn in row.values("maAdminOf")) if dn]
        reorg.rescoped += after != before
        reorg.add(MODIFY, _final_dn(row, present, tree, nodes, destination), f"admin:{row.one('uid')}",
                  before={"maAdminOf": before}, after={"maAdminOf": after})


def _scope_after(dn: str, present: Present, tree: _Tree, nodes: dict[str, str], successor: dict[str, str],
                 carried: set[str]) -> str:
    code = dit.unit_path_of(dn, present.base_dn)[-1]
    node = f"old:{code}"
    if node in carried:
        return tree.dn(node)
    return tree.dn(nodes[successor[code]]) if code in successor else ""


def _final_dn(row: Row, present: Present, tree: _Tree, nodes: dict[str, str], destination: dict[str, str]) -> str:
    """Where an administrator's own entry is once the mailboxes have moved."""
    if row.dn in destination:
        return f"{row.dn.split(',', 1)[0]},{tree.dn(nodes[destination[row.dn]])}"
    return _current_dn(row, present, tree)


def _close_vanished(plan: ReorgFile, present: Present, tree: _Tree, nodes: dict[str, str],
                    successor: dict[str, str], reorg: Reorg) -> None:
    """The old units that do not go on, now empty, deepest first: kept as history, or deleted. The old code
    of a unit carried on under a new code is kept in the history too (with its old name and kind)."""
    carried = set(nodes.values())
    gone = [(node.removeprefix("old:"), tree.dn(node)) for node in sorted(
        (node for node in tree.parent if node.startswith("old:") and node not in carried),
        key=lambda n: -len(tree.path(n)))]
    reorg.closed += [code for code, _ in gone]
    if not plan.keep_closed:
        for code, dn in gone:
            reorg.add(DELETE, dn, f"unit:{code}", before=present.unit_rows[code].attrs)
        return
    renamed = _renamed(plan, nodes)
    if (gone or renamed) and not present.history_exists:
        reorg.add(ADD, dit.history_dn(present.base_dn), "history",
                  after={"objectClass": ["top", "organizationalUnit"], "ou": [dit.HISTORY_OU]})
    for code, dn in gone:
        _date_the_end(code, dn, plan, present, successor[code], reorg)
    for code, dn in gone:  # one at a time, deepest first: a unit leaves only once it is empty
        reorg.add(MOVE, dn, f"unit:{code}", target=dit.former_unit_dn(code, present.base_dn))
    for code, new_code in renamed:
        _keep_old_name(code, new_code, plan, present, reorg)


def _renamed(plan: ReorgFile, nodes: dict[str, str]) -> list[tuple[str, str]]:
    """(old code, new code) of every old unit carried on under another code."""
    return [(nodes[unit.code].removeprefix("old:"), unit.code) for unit in plan.all_units()
            if nodes[unit.code].startswith("old:") and nodes[unit.code] != f"old:{unit.code}"]


def _date_the_end(code: str, dn: str, plan: ReorgFile, present: Present, successor: str, reorg: Reorg) -> None:
    """A unit's last day and successor, written in place (in transactions) before it moves to the history."""
    _check_history_free(code, plan, present, reorg)
    row = present.unit_rows[code]
    after = _the_end(plan, successor)
    reorg.add(MODIFY, dn, f"unit:{code}", bulk=True, before={name: row.values(name) for name in after}, after=after)


def _keep_old_name(code: str, new_code: str, plan: ReorgFile, present: Present, reorg: Reorg) -> None:
    """A unit carried on under a new code: its old code, name and kind kept in the history as a merged
    unit's are (successor: the new code), so that `units history CODE` and /units/CODE can name it."""
    _check_history_free(code, plan, present, reorg)
    row = present.unit_rows[code]
    kept = {name: row.values(name) for name in ("displayName", "maUnitKind", "maSearchName", "maValidFrom",
                                                 "maPredecessor")}
    entry = {"objectClass": ["top", "organizationalUnit", "maUnit"], "ou": [code],
             **{name: values for name, values in kept.items() if values}, **_the_end(plan, new_code)}
    reorg.add(ADD, dit.former_unit_dn(code, present.base_dn), f"unit:{code}", after=entry)


def _the_end(plan: ReorgFile, successor: str) -> Values:
    """A former unit's last day (the day before the plan's) and the code of the unit that took it over."""
    return {"maValidTo": [generalized_time(plan.effective - timedelta(days=1))], "maSuccessor": [successor]}


def _check_history_free(code: str, plan: ReorgFile, present: Present, reorg: Reorg) -> None:
    if code in present.former:
        reorg.problems.append(PlanProblem(plan.close_line, f"unit {code}", t(
            "lịch sử đã có một đơn vị mã {code}: hãy dùng closed_units: delete",
            "the history already holds a unit with code {code}: use closed_units: delete", code=code)))


def _describe_units(plan: ReorgFile, present: Present, destination: dict[str, str], reorg: Reorg) -> None:
    after = Counter(destination.values())
    before = Counter(_unit_of(row, present.base_dn) for row in present.mailboxes)
    reorg.held = after.get(plan.holding.code, 0)
    for unit in plan.all_units():
        reorg.units.append({"code": unit.code, "name": unit.name, "kind": unit.kind.value, "parent": unit.parent,
                            "takes": list(unit.takes), "mailboxes_before": sum(before[c] for c in unit.takes),
                            "mailboxes_after": after.get(unit.code, 0)})


def expire_old_addresses(present: Present, today: date) -> Reorg:
    """Writes that drop, from each mailbox whose old addresses were kept until before `today`, every
    address outside its mail's domain (and the date): the end of a reorganisation's grace period."""
    reorg = Reorg()
    limit = generalized_time(today)
    for row in present.mailboxes:
        until = row.one("maOldAddressUntil")
        if not until or until[:8] >= limit[:8]:
            continue
        domain = row.one("mail").rpartition("@")[2].lower()
        kept = [a for a in row.values("mailLocalAddress") if a.rpartition("@")[2].lower() == domain]
        before = {"mailLocalAddress": row.values("mailLocalAddress"), "maOldAddressUntil": [until]}
        reorg.readdressed += 1
        reorg.add(MODIFY, row.dn, f"mailbox:{row.one('uid')}", bulk=True, before=before,
                  after={"mailLocalAddress": kept, "maOldAddressUntil": []})
    return reorg

