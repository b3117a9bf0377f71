"""Carry out a journaled plan (or undo it): batched LDAP transactions, every outcome journaled.

Resume and undo reconcile with the directory first: a batch committed just before a crash
but not yet in the journal is recognised by its effect (the entry already looks as planned),
so a resumed job ends in exactly the planned state and never writes twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailadmin.directory import dit
from mailadmin.directory.mailboxes import MailboxStore, MailboxWrite
from mailadmin.importer.engine import Progress, Tracker
from mailadmin.importer.journal import Job, OutcomeLog
from mailadmin.importer.plan import WRITES, Action, Outcome, comparable
from mailadmin.model import Mailbox
from mailadmin.passwords import hash_generated
from mailadmin.services.units import UnitIndex

CHANGED_SINCE = "changed since the import / đã bị sửa sau khi nhập"


@dataclass
class Writer:
    """What applying and undoing need: the store, the unit tree, the batch size, a progress hook."""

    store: MailboxStore
    units: UnitIndex
    batch_size: int
    progress: Progress | None = None

    def dn(self, mailbox: Mailbox) -> str:
        return dit.mailbox_dn(mailbox.uid, self.units.get(mailbox.unit_code).path, self.store.base_dn)

    def path(self, code: str) -> tuple[str, ...]:
        return self.units.get(code).path


def effective(mailbox_now: Mailbox | None, wanted: Mailbox | None) -> bool:
    """Does the directory already hold `wanted` (None: the entry must be gone)?"""
    if wanted is None:
        return mailbox_now is None
    return mailbox_now is not None and comparable(mailbox_now) == comparable(wanted)


def apply_job(job: Job, writer: Writer, current: dict[str, Mailbox] | None) -> dict[int, str]:
    """Write every pending step of the plan; `current` (the directory now) is given when resuming."""
    writes = [a for a in job.actions() if a.outcome in WRITES]
    done = job.outcomes()
    pending = [a for a in writes if a.index not in done]
    passwords = job.secrets()
    with job.log() as log:
        if current is not None:
            pending = _skip_effective(pending, current, log, lambda a: a.after)
        tracker = Tracker(log, writer.batch_size, writer.progress, len(writes), len(writes) - len(pending))
        creates = [a for a in pending if a.outcome is Outcome.CREATE]
        tracker.expect((writer.dn(a.after), a.index) for a in creates if a.after)
        writer.store.add_many(((a.after, writer.path(a.after.unit_code), hash_generated(passwords[a.index]))
                                  for a in creates if a.after), tracker.result, writer.batch_size)
        changes = [a for a in pending if a.outcome is not Outcome.CREATE]
        tracker.expect((writer.dn(a.before), a.index) for a in changes if a.before)
        writer.store.write_many(_forward(changes, writer), tracker.result, writer.batch_size)
    return job.outcomes()


def undo_job(job: Job, writer: Writer, current: dict[str, Mailbox]) -> dict[int, str]:
    """Revert every step the job did, newest first; a mailbox changed since the import is left alone."""
    applied = job.outcomes()
    done = [a for a in job.actions() if applied.get(a.index) == "ok"]
    undone = job.outcomes("undo.log")
    pending = [a for a in reversed(done) if a.index not in undone]
    with job.log("undo.log") as log:
        pending = _skip_effective(pending, current, log, lambda a: a.before)
        tracker = Tracker(log, writer.batch_size, writer.progress, len(done), len(done) - len(pending))
        safe = []
        for action in pending:
            if effective(current.get(action.uid), action.after):
                safe.append(action)
            else:
                tracker.record(action.index, CHANGED_SINCE)
        tracker.expect((writer.dn(a.after), a.index) for a in safe if a.after)
        writer.store.write_many(_backward(safe, writer), tracker.result, writer.batch_size)
    return job.outcomes("undo.log")


def _skip_effective(actions: list[Action], current: dict[str, Mailbox], log: OutcomeLog,
                    target: Callable[[Action], Mailbox | None]) -> list[Action]:
    remaining = []
    for action in actions:
        if effective(current.get(action.uid), target(action)):
            log.write(action.index, None)
        else:
            remaining.append(action)
    log.sync()
    return remaining


def _forward(actions: list[Action], writer: Writer) -> Iterator[MailboxWrite]:
    for action in actions:
        before, after = action.before, action.after
        assert before is not None and after is not None
        moved = before.unit_code != after.unit_code
        yield MailboxWrite(writer.dn(before), after, writer.path(after.unit_code) if moved else None,
                           before.status is not after.status)


def _backward(actions: list[Action], writer: Writer) -> Iterator[MailboxWrite]:
    for action in actions:
        before, after = action.before, action.after
        assert after is not None
        if before is None:
            yield MailboxWrite(writer.dn(after), None)
            continue
        moved = before.unit_code != after.unit_code
        yield MailboxWrite(writer.dn(after), before, writer.path(before.unit_code) if moved else None,
                           before.status is not after.status)
