"""An import's plan as typed writes (ops.py), carried out and undone by the change engine (engine.py).

Each row that writes becomes one write with the row's index, so the journal, resume, undo and the
results file stay keyed by row. Creates are bulk adds (transactions of imports.batch_size, a refused
one replayed add by add); their entries, initial passwords included, are built by the store at write
time and never journaled. Updates and retirements are bulk modifies of every field; moves rewrite the
fields, then rename, one at a time. Undo leaves alone, and reports, a mailbox changed since the import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from mailadmin.directory import dit
from mailadmin.directory.client import Values
from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.importer.engine import Engine, Progress, apply_ops, undo_ops
from mailadmin.importer.journal import Job
from mailadmin.importer.ops import ADD, MODIFY, MOVE, Op
from mailadmin.importer.plan import WRITES, Action, Outcome, comparable
from mailadmin.model import Mailbox
from mailadmin.passwords import hash_generated
from mailadmin.services.units import UnitIndex

__all__ = ["CHANGED_SINCE", "Progress", "Writer", "apply_job", "undo_job"]
CHANGED_SINCE = "changed since the import / đã bị sửa sau khi nhập"
NO_VALUES: dict[str, list[str]] = {}  # one empty dict for every create (100,000 rows: 13 MB less); never mutated


@dataclass
class Writer:
    """What applying and undoing need: the store, the unit tree, the batch size, a progress hook."""

    store: MailboxStore
    units: UnitIndex
    batch_size: int
    progress: Progress | None = None

    def dn(self, mailbox: Mailbox) -> str:
        """The entry's DN below its unit."""
        return dit.mailbox_dn(mailbox.uid, self.units.get(mailbox.unit_code).path, self.store.base_dn)

    def engine(self, new_entry: Mapping[int, Mailbox], passwords: Mapping[int, str]) -> Engine:
        """The change engine on this directory; adds build their entries from the plan."""
        def entry(op: Op) -> Mapping[str, Values]:
            return self.store.entry_of(new_entry[op.index], hash_generated(passwords[op.index]))
        return Engine(self.store.client, self.batch_size, self.progress, entry,
                      lambda op: self.store.entry_of(new_entry[op.index], None))


def effective(mailbox_now: Mailbox | None, wanted: Mailbox | None) -> bool:
    """Does the directory already hold `wanted` (None: the entry must be gone)?"""
    if wanted is None:
        return mailbox_now is None
    return mailbox_now is not None and comparable(mailbox_now) == comparable(wanted)


def writes(job: Job) -> list[Action]:
    """The rows of a job that write."""
    return [action for action in job.actions() if action.outcome in WRITES]


def apply_job(job: Job, writer: Writer, resuming: bool) -> dict[int, str]:
    """Write every pending row of the plan; a resume first skips the writes already in effect."""
    actions = writes(job)
    created = {a.index: a.after for a in actions if a.outcome is Outcome.CREATE and a.after is not None}
    return apply_ops(job, writer.engine(created, job.secrets()), resuming, compile_ops(job.id, actions, writer))


def undo_job(job: Job, writer: Writer, current: dict[str, Mailbox]) -> dict[int, str]:
    """Revert every row the job wrote, newest first; a mailbox changed since the import is left alone."""
    actions = writes(job)
    planned = {action.index: action.after for action in actions}

    def held(op: Op) -> str | None:
        return None if effective(current.get(op.subject), planned[op.index]) else CHANGED_SINCE
    return undo_ops(job, writer.engine({}, {}), compile_ops(job.id, actions, writer), held)


def compile_ops(job_id: str, actions: list[Action], writer: Writer) -> list[Op]:
    """The writes of the rows, in the order they run: creates, then updates, then moves."""
    ops = [_op(job_id, action, writer) for action in actions]
    return [op for kind in (ADD, MODIFY, MOVE) for op in ops if op.kind == kind]


def _op(job_id: str, action: Action, writer: Writer) -> Op:
    before, after = action.before, action.after
    assert after is not None
    if before is None:
        return Op(action.index, ADD, writer.dn(after), after.uid, before=NO_VALUES, after=NO_VALUES, bulk=True)
    moved = before.unit_code != after.unit_code
    status_changed = before.status is not after.status
    return Op(action.index, MOVE if moved else MODIFY, writer.dn(before), after.uid,
              target=writer.dn(after) if moved else "",
              before=writer.store.fields_of(before, _epoch(job_id, action.index, "undo") if status_changed else None),
              after=writer.store.fields_of(after, _epoch(job_id, action.index, "apply") if status_changed else None),
              bulk=not moved)


def _epoch(job_id: str, index: int, step: str) -> str:
    """The session epoch a status change writes: new, and the same when a resume compares or repeats it."""
    return hashlib.sha256(f"{job_id}:{index}:{step}".encode()).hexdigest()[:16]
