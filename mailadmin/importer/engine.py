"""Carry out a journaled plan of typed writes (ops.py), or undo it: the change engine of imports, reorgs, bulk actions.

Writes marked bulk run pipelined, adds and modifies `batch_size` to an LDAP transaction (a refused
batch replayed write by write), renames without one; the others run alone, in order (a unit must
exist before anything moves into it). Every outcome goes to the job's log, synced per batch. Resume
and undo first recognise, by its effect on the directory, every write already carried out but not
yet journaled, so no write is made twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby

from mailadmin.directory.client import DirectoryClient, Entry, Values
from mailadmin.directory.results import already_there
from mailadmin.errors import (
    AlreadyExists,
    CommitInDoubt,
    Conflict,
    DirectoryUnavailable,
    MailadminError,
    still_in_doubt,
)
from mailadmin.i18n import t
from mailadmin.importer.journal import Job, OutcomeLog
from mailadmin.importer.ops import ADD, DELETE, MODIFY, MOVE, Op, same_values

Progress = Callable[[int, int], None]  # (done, total)
Held = Callable[[Op], str | None]  # why a write must not run (journaled as its refusal), or None


@dataclass
class Engine:
    """What applying and undoing need: the directory, the batch size and a progress hook.

    `entries` builds an add's attributes at write time when the plan does not carry them (an
    import's new mailboxes: their initial passwords are never journaled, nor held all at once).
    """

    client: DirectoryClient
    batch_size: int
    progress: Progress | None = None
    entries: Callable[[Op], Mapping[str, Values]] | None = None
    identities: Callable[[Op], Mapping[str, Values]] | None = None  # an add's attributes less its secrets

    def entry(self, op: Op) -> Mapping[str, Values]:
        """The attributes an add writes."""
        return self.entries(op) if self.entries else op.after

    def effective(self, op: Op) -> bool:
        """Does the directory already show this write's effect?"""
        if op.kind == ADD:
            return self._get(op.dn) is not None
        if op.kind == DELETE:
            return self._get(op.dn) is None
        if op.kind == MOVE:
            return self._get(op.dn) is None and self._shows(op.target, op.after)
        return self._shows(op.dn, op.after)

    def replicated(self) -> bool:
        """May writes fail over to another server (replicated peers)?"""
        return len(self.client.config.uris) > 1

    def ours(self, op: Op) -> bool:
        """Is the entry at an add's DN the one the add writes (every text attribute of it but the password)?"""
        written = self.identities(op) if self.identities else self.entry(op)
        wanted = {name: [str(value) for value in values] for name, values in written.items()
                  if name.lower() != "userpassword" and all(isinstance(value, str) for value in values)}
        return self._shows(op.dn, wanted)

    def _shows(self, dn: str, values: dict[str, list[str]]) -> bool:
        entry = self._get(dn, tuple(values) or ("1.1",))
        return entry is not None and all(same_values(entry.texts(name), wanted) for name, wanted in values.items())

    def _get(self, dn: str, attributes: tuple[str, ...] = ("1.1",)) -> Entry | None:
        return self.client.get(dn, attributes)


@contextmanager
def applying(job: Job) -> Iterator[bool]:
    """Hold the job and mark it 'applying'; True for a resume (it was applying already). Only a job not
    finished yet may be applied."""
    with job.locked():
        state = job.state
        if state not in ("planned", "applying"):
            raise Conflict(t("Công việc {job} đã {state}", "job {job} is already {state}", job=job.id, state=state))
        job.set_state("applying")
        yield state == "applying"


def job_ops(job: Job) -> list[Op]:
    """The writes a job planned, in order."""
    return [Op.of_data(record) for record in job.records()]


def apply_ops(job: Job, engine: Engine, reconcile: bool, ops: list[Op] | None = None) -> dict[int, str]:
    """Carry out every write not journaled yet; `reconcile` (a resume): skip those already in effect.

    `ops`: the job's writes when its journal holds another plan (an import's rows), else read from it.
    """
    return _run(job, engine, job_ops(job) if ops is None else ops, "done.log", reconcile)


def undo_ops(job: Job, engine: Engine, ops: list[Op] | None = None, held: Held | None = None) -> dict[int, str]:
    """Undo every write the job carried out, newest first; `held` may keep one back (journaled refused)."""
    applied = job.outcomes()
    inverses = [op.inverse() for op in reversed(job_ops(job) if ops is None else ops) if applied.get(op.index) == "ok"]
    return _run(job, engine, inverses, "undo.log", True, held)


def _run(job: Job, engine: Engine, ops: list[Op], log_name: str, reconcile: bool,
         held: Held | None = None) -> dict[int, str]:
    _settle_doubt(job, engine)
    try:
        return _run_settled(job, engine, ops, log_name, reconcile, held)
    except CommitInDoubt as error:
        job.note_in_doubt(error.server)
        raise


def _settle_doubt(job: Job, engine: Engine) -> None:
    """Go on only once the server that held a commit of the job unanswered answers again or is gone.

    Until then it may still carry the commit out, after the writes were made again elsewhere (errors.CommitInDoubt).
    """
    server = job.in_doubt
    if server is None:
        return
    if engine.client.silent(server):
        raise still_in_doubt(server, job.id)
    job.note_in_doubt(None)


def _run_settled(job: Job, engine: Engine, ops: list[Op], log_name: str, reconcile: bool,
                 held: Held | None) -> dict[int, str]:
    done = job.outcomes(log_name)
    pending = [op for op in ops if op.index not in done]
    with job.log(log_name) as log:
        tracker = Tracker(log, engine.batch_size, engine.progress, len(ops), len(ops) - len(pending))
        groups = [list(group) for _, group in groupby(pending, key=lambda op: (op.kind, op.bulk))]
        rewrite = reconcile and engine.replicated()
        if reconcile and groups:
            groups[0] = _skip_effective(groups[0], engine, tracker, rewrite)
        if held:
            groups = [_hold_back(group, held, tracker) for group in groups]
        for number, group in enumerate(groups):
            if rewrite and number == 0 and group and group[0].kind == ADD and group[0].bulk:
                _write_adds_again_if_found(group, engine, tracker)
            else:
                _write_group(group[0].kind if group else "", bool(group and group[0].bulk), group, engine, tracker)
            tracker.log.sync()
    return job.outcomes(log_name)


def _skip_effective(ops: list[Op], engine: Engine, tracker: Tracker, rewrite: bool = False) -> list[Op]:
    """The writes of the group that was running when the job stopped, less those already in effect.

    Only that group can hold writes made but not journaled: the journal is synced after every
    group (and every write that runs alone), and a group starts once the one before has ended.
    Later groups may reuse a DN (a list deleted and made again), so they are not looked at.
    """
    remaining = []
    for op in ops:
        if engine.effective(op):
            tracker.record(op.index, _found_add(op, engine, rewrite) if op.kind == ADD else None)
        else:
            remaining.append(op)
    return remaining


def _found_add(op: Op, engine: Engine, rewrite: bool) -> str | None:
    """An add a resume found made: None if it is this add's entry, else why not (never touched).

    `rewrite` (replicated peers): the entry is deleted and added again on the server now written to. A
    resumed job may be writing to another server than before, and what it finds there may be a phantom:
    syncprov sends a transaction's writes to the peers before the commit, so a server killed while
    committing leaves them on its peers, which delete them again once it is back without them
    (tests/test_replication.py, kill -9 during an import). Written again here, the entry is this server's own.
    """
    if not engine.ours(op):
        return already_there(op.dn).message.both()
    return _attempt(lambda: _delete_and_add(op, engine)) if rewrite else None


def _delete_and_add(op: Op, engine: Engine) -> None:
    try:
        engine.client.delete(op.dn)
    except DirectoryUnavailable:
        raise
    except MailadminError:
        return  # gone meanwhile, or entries below it already: kept as it is
    engine.client.add(op.dn, engine.entry(op))


def _write_adds_again_if_found(ops: list[Op], engine: Engine, tracker: Tracker) -> None:
    """The resumed group of adds, in bulk; an add refused because its entry is there is written again.

    Right after a failover the new server may still be applying the writes the old one sent it (see
    _found_add): an entry can appear between the look and the add.
    """
    by_dn = {op.dn.lower(): op for op in ops}
    found: list[Op] = []

    def result(dn: str, error: Exception | None) -> None:
        if isinstance(error, AlreadyExists):
            tracker.index_of[dn.lower()].pop(0)
            found.append(by_dn[dn.lower()])
        else:
            tracker.result(dn, error)
    tracker.expect((op.dn, op.index) for op in ops)
    engine.client.add_many(((op.dn, engine.entry(op)) for op in ops), result, engine.batch_size)
    for op in found:
        tracker.record(op.index, _found_add(op, engine, rewrite=True))


def _hold_back(ops: list[Op], held: Held, tracker: Tracker) -> list[Op]:
    """The writes that may run; the others journaled with the reason they may not."""
    remaining = []
    for op in ops:
        reason = held(op)
        if reason is None:
            remaining.append(op)
        else:
            tracker.record(op.index, reason)
    return remaining


def _write_group(kind: str, bulk: bool, ops: list[Op], engine: Engine, tracker: Tracker) -> None:
    if not ops:
        return
    if bulk and kind in (ADD, MODIFY, MOVE):
        tracker.expect((op.dn, op.index) for op in ops)
        _write_bulk(kind, ops, engine, tracker)
        return
    for op in ops:
        tracker.record(op.index, _attempt(lambda op=op: _write_one(op, engine)))  # type: ignore[misc]
        tracker.log.sync()


def _write_bulk(kind: str, ops: list[Op], engine: Engine, tracker: Tracker) -> None:
    """One kind of writes pipelined; adds and modifies in transactions of batch_size (moves carry no attributes)."""
    client, size = engine.client, engine.batch_size
    if kind == ADD:
        client.add_many(((op.dn, engine.entry(op)) for op in ops), tracker.result, size)
    elif kind == MODIFY:
        client.modify_many(((op.dn, _replace(op)) for op in ops), tracker.result, size)
    else:
        client.move_many(((op.dn, op.new_rdn, op.new_parent) for op in ops), tracker.result, size)


def _write_one(op: Op, engine: Engine) -> None:
    client = engine.client
    if op.kind == ADD:
        client.add(op.dn, engine.entry(op))
    elif op.kind == DELETE:
        client.delete(op.dn)
    elif op.kind == MOVE:
        _move(op, client)
    else:
        client.modify(op.dn, _replace(op))


def _move(op: Op, client: DirectoryClient) -> None:
    """A move that also rewrites attributes does so first (not one transaction: slapd 2.5.13 crashed
    on transactions holding a modify and a modrdn of one entry); both steps can be repeated. A refused
    rename puts the attributes back, as the mailbox service's move does: no entry keeps a tier that
    disagrees with its unit."""
    if op.after:
        client.modify(op.dn, _replace(op))
    try:
        client.move(op.dn, op.new_rdn, op.new_parent)
    except DirectoryUnavailable:
        raise
    except MailadminError:
        if op.before:
            client.modify(op.dn, _replace(op.inverse()))
        raise


def _replace(op: Op) -> dict[str, tuple[str, list[str]]]:
    return {name: ("replace", values) for name, values in op.after.items()}


def _attempt(step: Callable[[], None]) -> str | None:
    """Run one write: a refusal is returned as its reason, a lost directory raised."""
    try:
        step()
    except DirectoryUnavailable:
        raise
    except MailadminError as error:
        return error.message.both()
    return None


class Tracker:
    """Journals each result, syncs the journal once per batch and reports progress (every kind of job)."""

    def __init__(self, log: OutcomeLog, batch_size: int, progress: Progress | None, total: int, done: int) -> None:
        self.log, self.batch_size, self.progress, self.total, self.done = log, batch_size, progress, total, done
        self.index_of: dict[str, list[int]] = {}
        self._unsynced = 0
        self._report()

    def expect(self, pairs: Iterable[tuple[str, int]]) -> None:
        """The journal index of each DN a bulk write will report on."""
        for dn, index in pairs:
            self.index_of.setdefault(dn.lower(), []).append(index)

    def result(self, dn: str, error: Exception | None) -> None:
        """A bulk write's on_result hook."""
        reason = None if error is None else error.message.both() if isinstance(error, MailadminError) else str(error)
        self.record(self.index_of[dn.lower()].pop(0), reason)

    def record(self, index: int, error: str | None) -> None:
        """Journal one outcome."""
        self.log.write(index, error)
        self.done += 1
        self._unsynced += 1
        if self._unsynced >= self.batch_size:
            self.log.sync()
            self._unsynced = 0
        self._report()

    def _report(self) -> None:
        if self.progress:
            self.progress(self.done, self.total)


def failures(outcomes: dict[int, str]) -> Iterator[tuple[int, str]]:
    """(index, reason) of every refused write."""
    return ((index, reason.removeprefix("failed ")) for index, reason in outcomes.items() if reason != "ok")
