"""People + snapshot -> the complete plan: create / update / move / unchanged / error / retire (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum

from mailadmin.errors import PermissionDenied
from mailadmin.i18n import Text, t
from mailadmin.importer.snapshot import Snapshot
from mailadmin.importer.validate import Person, RowError
from mailadmin.model import Mailbox, Status, Unit
from mailadmin.names import AddressAllocator, PrefixIndex, local_part
from mailadmin.services.authz import own_lock_out_message, wider_rights_message


class Outcome(StrEnum):
    """What the plan does with a row (or, for retire, with a mailbox missing from the file)."""

    CREATE = "create"
    UPDATE = "update"
    MOVE = "move"
    RETIRE = "retire"
    UNCHANGED = "unchanged"
    ERROR = "error"


WRITES = (Outcome.CREATE, Outcome.UPDATE, Outcome.MOVE, Outcome.RETIRE)
COMPARED = ("full_name", "title", "phone", "aliases", "status", "unit_code", "hr_id")


@dataclass(frozen=True)
class PlanOptions:
    """Choices of the person importing."""

    retire_missing: str | None = None          # unit code: retire its people absent from the file
    scope: tuple[str, ...] | None = None       # unit codes the importer may touch (None: all)
    protected: frozenset[str] = frozenset()    # uids of role holders whose rights reach beyond the importer's
    may_lock_out: Callable[[str], bool] = lambda uid: True  # the importer's Principal.may_lock_out (not their own)
    today: date = field(default_factory=date.today)
    retention_days: int = 365


@dataclass(frozen=True, slots=True)
class Action:
    """One step of the plan; `before`/`after` are the mailbox as it is and as it will be."""

    index: int
    outcome: Outcome
    line: int
    hr_id: str
    before: Mailbox | None = None
    after: Mailbox | None = None
    changes: tuple[str, ...] = ()
    error: RowError | None = None
    warnings: tuple[RowError, ...] = ()

    @property
    def uid(self) -> str:
        mailbox = self.after or self.before
        return mailbox.uid if mailbox else ""


@dataclass(frozen=True)
class Plan:
    """Every row's action, in file order, then the retirements."""

    actions: list[Action]

    def counts(self) -> dict[str, int]:
        """How many actions of each outcome (every outcome listed)."""
        found = Counter(action.outcome.value for action in self.actions)
        return {outcome.value: found.get(outcome.value, 0) for outcome in Outcome}

    @property
    def errors(self) -> list[RowError]:
        return [a.error for a in self.actions if a.error is not None]

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.outcome in WRITES]


def comparable(mailbox: Mailbox) -> dict[str, object]:
    """The fields an import decides, for diffs and for checking that a write took effect."""
    return {"full_name": mailbox.name.full, "title": mailbox.title, "phone": mailbox.phone,
            "aliases": tuple(sorted(mailbox.aliases)), "status": mailbox.status.value,
            "unit_code": mailbox.unit_code, "hr_id": mailbox.hr_id}


def diff(before: Mailbox, after: Mailbox) -> tuple[str, ...]:
    """Names of the fields that differ."""
    old, new = comparable(before), comparable(after)
    return tuple(name for name in COMPARED if old[name] != new[name])


def make_plan(people: list[Person], errors: list[RowError], snapshot: Snapshot,
              options: PlanOptions | None = None) -> Plan:
    """The whole plan, addresses included, before anything is written."""
    options = options or PlanOptions()
    if options.retire_missing and not _in_scope(options.retire_missing, snapshot, options.scope):
        raise PermissionDenied(t("Đơn vị {code} nằm ngoài phạm vi bạn được quản lý",
                                 "the unit {code} is outside the units you manage", code=options.retire_missing))
    allocator = _allocator(people, snapshot)
    steps: list[tuple[int, Outcome, str, Mailbox | None, Mailbox | None, RowError | None]] = []
    for person in people:
        problem = _out_of_scope(person, snapshot, options) or _protected(person, options) \
            or _own_lock_out(person, options)
        if problem:
            steps.append((person.line, Outcome.ERROR, person.hr_id, None, None, problem))
        elif person.existing is None:
            steps.append((person.line, Outcome.CREATE, person.hr_id, None, _new(person, snapshot, allocator), None))
        else:
            after = _updated(person, options)
            outcome = _outcome(person.existing, after)
            steps.append((person.line, outcome, person.hr_id, person.existing, after, None))
    steps += [(e.line, Outcome.ERROR, e.cells.get("hr_id", ""), None, None, e) for e in errors]
    steps.sort(key=lambda step: step[0])
    steps += _retirements(people, snapshot, options)
    warnings = {person.line: person.warnings for person in people}  # retirements have line 0: none
    return Plan([Action(i, outcome, line, hr_id, before, after, diff(before, after) if before and after else (),
                        error, warnings.get(line, ()))
                 for i, (line, outcome, hr_id, before, after, error) in enumerate(steps)])


def _allocator(people: list[Person], snapshot: Snapshot) -> AddressAllocator:
    """Free addresses: not in the directory, not reserved, not asked for by any row of the file."""
    wanted = {p.mail for p in people if p.mail} | {a.split("@")[0] for p in people for a in p.aliases}
    return AddressAllocator(PrefixIndex(snapshot.owners.keys() | wanted), snapshot.reserved)


def _new(person: Person, snapshot: Snapshot, allocator: AddressAllocator) -> Mailbox:
    uid = person.mail or allocator.allocate(local_part(person.name, snapshot.pattern))
    return Mailbox(uid=uid, name=person.name, mail=f"{uid}@{snapshot.domain}", unit_code=person.unit.code,
                   tier=person.unit.tier, status=person.status or Status.ACTIVE, aliases=person.aliases,
                   title=person.title, phone=person.phone, hr_id=person.hr_id)


def _updated(person: Person, options: PlanOptions) -> Mailbox:
    existing = person.existing
    assert existing is not None
    status = person.status or existing.status
    return replace(existing, name=person.name, unit_code=person.unit.code, tier=person.unit.tier,
                   title=person.title, phone=person.phone, aliases=person.aliases, hr_id=person.hr_id,
                   status=status, retain_until=_retain_until(existing, status, options))


def _retain_until(existing: Mailbox, status: Status, options: PlanOptions) -> date | None:
    if status is not Status.RETIRED:
        return None
    return existing.retain_until if existing.status is Status.RETIRED else \
        options.today + timedelta(days=options.retention_days)


def _outcome(before: Mailbox, after: Mailbox) -> Outcome:
    if before.unit_code != after.unit_code:
        return Outcome.MOVE
    return Outcome.UPDATE if diff(before, after) else Outcome.UNCHANGED


def _in_scope(unit_code: str, snapshot: Snapshot, scope: tuple[str, ...] | None) -> bool:
    unit = snapshot.units.units.get(unit_code)
    return scope is None or (unit is not None and any(code in unit.path for code in scope))


def _out_of_scope(person: Person, snapshot: Snapshot, options: PlanOptions) -> RowError | None:
    codes = [person.unit.code] + ([person.existing.unit_code] if person.existing else [])
    outside = next((code for code in codes if not _in_scope(code, snapshot, options.scope)), None)
    if outside is None:
        return None
    return RowError(person.line, "", "unit", t("Đơn vị {code} nằm ngoài phạm vi bạn được quản lý",
                                               "the unit {code} is outside the units you manage", code=outside))


def _protected(person: Person, options: PlanOptions) -> RowError | None:
    if person.existing is None or person.existing.uid not in options.protected:
        return None
    return RowError(person.line, "", "hr_id", wider_rights_message(person.existing.uid))


def _own_lock_out(person: Person, options: PlanOptions) -> RowError | None:
    """A row suspending or retiring the importer's own mailbox (it would end their session mid-job)."""
    if person.existing is None or person.status in (None, Status.ACTIVE) or options.may_lock_out(person.existing.uid):
        return None
    return RowError(person.line, "", "status", own_lock_out_message())


def _retirements(people: list[Person], snapshot: Snapshot, options: PlanOptions,
                 ) -> list[tuple[int, Outcome, str, Mailbox | None, Mailbox | None, RowError | None]]:
    if not options.retire_missing:
        return []
    below: Unit = snapshot.units.get(options.retire_missing)
    listed = {p.existing.uid for p in people if p.existing}
    steps: list[tuple[int, Outcome, str, Mailbox | None, Mailbox | None, RowError | None]] = []
    for mailbox in sorted(snapshot.mailboxes.values(), key=lambda m: m.uid):
        unit = snapshot.units.units.get(mailbox.unit_code)
        if unit is None or below.code not in unit.path or mailbox.uid in listed \
                or mailbox.status is Status.RETIRED:
            continue
        if mailbox.uid in options.protected or not options.may_lock_out(mailbox.uid):
            refusal = wider_rights_message(mailbox.uid) if mailbox.uid in options.protected else own_lock_out_message()
            error = RowError(0, "", "hr_id", refusal)
            steps.append((0, Outcome.ERROR, mailbox.hr_id, mailbox, None, error))
            continue
        after = replace(mailbox, status=Status.RETIRED,
                        retain_until=options.today + timedelta(days=options.retention_days))
        steps.append((0, Outcome.RETIRE, mailbox.hr_id, mailbox, after, None))
    return steps


def describe(action: Action) -> Text:
    """A short bilingual note for the results file: the error, or the fields that change."""
    if action.error is not None:
        return action.error.message
    notes = [t("thay đổi: {f}", "changes: {f}", f=", ".join(action.changes))] if action.changes else []
    notes += [warning.message for warning in action.warnings]
    return t("{vi}", "{en}", vi="; ".join(n.render("vi") for n in notes), en="; ".join(n.render("en") for n in notes))
