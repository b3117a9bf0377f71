"""Bulk actions on mailboxes (suspend, reactivate, move) as change-engine jobs: checked, journaled, resumable, undoable.

A selection is checked whole before anything is planned (MailboxService.authorize_many: the rule of
every single change), compiled to typed writes (ops.py) of exactly what the mailbox service writes
for the action (the store's status_values and move_values), journaled (journal.py) and carried out
by the engine (engine.py): status changes as bulk modifies in transactions, moves one at a time
(tier, then rename). Every status write sets a session epoch drawn at planning time: an undo ends
the sessions begun since and never revives those a suspension ended, and a resume recognises the
writes already made. The audit entries are those of the single actions, naming the job.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from mailadmin.audit import AuditLog, Change
from mailadmin.directory import dit
from mailadmin.directory.client import DirectoryClient, Entry
from mailadmin.directory.mailboxes import EPOCH, move_values, new_epoch_value, status_values
from mailadmin.durable import replace_file
from mailadmin.errors import Conflict, InvalidInput
from mailadmin.i18n import Text, t
from mailadmin.importer.engine import Engine, Held, Progress, apply_ops, applying, failures, undo_ops
from mailadmin.importer.journal import Job
from mailadmin.importer.ops import MODIFY, MOVE, Op, same_values
from mailadmin.importer.service import prune_jobs
from mailadmin.model import Mailbox, Status, Unit
from mailadmin.services.authz import Principal, require
from mailadmin.services.mailboxes import (
    MailboxService,
    keep_a_super_admin,
    mailbox_record,
    moved_to,
    status_action,
    stored_date,
    with_status,
)
from mailadmin.settings import Settings

ACTIONS = ("suspend", "resume", "move")
STATUS_OF = {"suspend": Status.SUSPENDED, "resume": Status.ACTIVE}
UNCHANGED = "unchanged"  # a mailbox already as wanted: journaled for the job page, never written
CHANGED_SINCE = "changed since the bulk action / đã bị sửa sau thao tác hàng loạt"
COMPARED = ("maAccountStatus", "maRetainUntil", "maTier")  # what an undo checks still holds (not epochs, lockouts)
SHOWN_ROWS = 500


@dataclass(frozen=True)
class Selection:
    """Mailboxes checked for an action, and a move's target unit."""

    action: str
    mailboxes: list[Mailbox]
    target: Unit | None = None
    left_out: tuple[str, ...] = ()  # uids the action may not touch, left out of the job (the actor's own)

    def note(self) -> Text | None:
        """What the person is told about the mailboxes left out, if any."""
        return _left_out_note(self.left_out) if self.left_out else None


def _left_out_note(uids: tuple[str, ...]) -> Text:
    return t("Hộp thư của chính bạn ({uids}) không bị tạm khóa cùng các hộp thư khác",
             "your own mailbox ({uids}) is not suspended with the others", uids=", ".join(uids))


def _each_once(mailboxes: Iterable[Mailbox]) -> list[Mailbox]:
    """Each mailbox once (uids compare without case): a form naming one three times makes one change."""
    return list({mailbox.uid.lower(): mailbox for mailbox in mailboxes}.values())


def _without_own(person: Principal, action: str, mailboxes: list[Mailbox]) -> tuple[list[Mailbox], tuple[str, ...]]:
    """The mailboxes the person may suspend in bulk, and those left out (their own: a whole-search suspension
    of their unit would end their session mid-job)."""
    if action != "suspend":
        return mailboxes, ()
    left_out = tuple(mailbox.uid for mailbox in mailboxes if not person.may_lock_out(mailbox.uid))
    return [mailbox for mailbox in mailboxes if person.may_lock_out(mailbox.uid)], left_out


def _plain(mailbox: Mailbox) -> dict[str, Any]:
    """An audit record of a mailbox as JSON-able data (dates as ISO days, as the audit log writes them)."""
    return json.loads(json.dumps(mailbox_record(mailbox), default=str))


def _epoch() -> list[str]:
    return [new_epoch_value()]


class BulkService:
    """Suspend, reactivate or move many mailboxes as one journaled, resumable and undoable job."""

    def __init__(self, settings: Settings, client: DirectoryClient, mailboxes: MailboxService,
                 audit: AuditLog) -> None:
        self.settings = settings
        self.client = client
        self.mailboxes = mailboxes
        self.audit = audit
        self.jobs_dir = settings.state_dir / "bulk"

    @property
    def limit(self) -> int:
        """The most mailboxes one action may cover (the import's bound on rows)."""
        return self.settings.imports.max_rows

    # -- check and plan ------------------------------------------------------------------------

    def chosen(self, uids: Iterable[str]) -> list[Mailbox]:
        """The ticked mailboxes of a selection, each once, read in a search per 200 (NotFound for a uid
        without a mailbox): what `select` checks."""
        return self.mailboxes.store.get_many(uid.strip().lower() for uid in uids)

    def select(self, person: Principal, action: str, mailboxes: Iterable[Mailbox],
               target: Unit | None = None) -> Selection:
        """Check the action, the target unit and every mailbox; PermissionDenied before anything is planned."""
        if action not in ACTIONS:
            raise InvalidInput(t("Thao tác không hợp lệ: {a}", "unknown action: {a}", a=action), "action")
        if action == "move":
            if target is None:
                raise InvalidInput(t("Hãy chọn đơn vị đích", "choose the target unit"), "unit")
            require(person.may_manage(target), target)
        chosen, left_out = _without_own(person, action, _each_once(mailboxes))
        if not chosen:
            raise InvalidInput(_left_out_note(left_out) if left_out
                               else t("Chọn hộp thư và thao tác.", "choose mailboxes and an action."), "uid")
        if len(chosen) > self.limit:
            raise InvalidInput(t("Quá {n} hộp thư: hãy thu hẹp tìm kiếm", "more than {n} mailboxes: narrow the search",
                                 n=self.limit))
        checked = self.mailboxes.authorize_many(person, chosen)
        if STATUS_OF.get(action, Status.ACTIVE) is not Status.ACTIVE:
            keep_a_super_admin(self.mailboxes.roles, *(mailbox.uid for mailbox in checked))
        return Selection(action, checked, target if action == "move" else None, left_out)

    def start(self, selection: Selection, submission: str = "", **meta: Any) -> tuple[Job, bool]:
        """Journal the writes of a checked selection (nothing written yet); (job, False) for a form sent again."""
        marker = self._marker(submission, str(meta.get("owner", ""))) if submission else None
        if marker is not None and not _claim(marker):
            return self._earlier(marker), False
        try:
            job = self._journal(selection, meta)
        except BaseException:
            if marker is not None:
                marker.unlink()  # nothing was journaled: the form may be sent again
            raise
        if marker is not None:
            replace_file(marker, job.id)  # atomically: a second sending reads no half-written id
        return job, True

    def _journal(self, selection: Selection, meta: dict[str, Any]) -> Job:
        records = list(self._records(selection))
        counts = Counter(record["kind"] for record in records)
        return Job.create_records(self.jobs_dir, records, {
            **meta, "kind": "bulk", "action": selection.action, "counts": dict(counts),
            "target": selection.target.code if selection.target else None})

    def _marker(self, submission: str, owner: str) -> Path:
        folder = self.jobs_dir / "submitted"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder / hashlib.sha256(f"{owner}\0{submission}".encode()).hexdigest()[:32]

    def _earlier(self, marker: Path) -> Job:
        """The job an earlier sending of the same form made."""
        job_id = marker.read_text(encoding="utf-8").strip()
        if not job_id:
            raise Conflict(t("Biểu mẫu này đã được gửi; thao tác đang được lập",
                             "this form was already sent; its action is being planned"))
        return self.job(job_id)

    def _records(self, selection: Selection) -> Iterator[dict[str, Any]]:
        """One journal line per mailbox: its write (or 'unchanged') and its audit records before and after."""
        locks = self.mailboxes.store.locked_binds(m.uid for m in selection.mailboxes) \
            if selection.action in STATUS_OF else {}
        for index, mailbox in enumerate(selection.mailboxes):
            after = self._after(selection, mailbox)
            op = self._op(index, selection, mailbox, after, locks.get(mailbox.uid.lower(), []))
            yield {**(op.as_data() if op else {"index": index, "kind": UNCHANGED, "subject": mailbox.uid}),
                   "records": [_plain(mailbox), _plain(after)]}

    def _after(self, selection: Selection, mailbox: Mailbox) -> Mailbox:
        if selection.target is not None:
            return moved_to(mailbox, selection.target)
        return with_status(mailbox, STATUS_OF[selection.action])

    def _op(self, index: int, selection: Selection, mailbox: Mailbox, after: Mailbox, locked: list[str]) -> Op | None:
        """The write of one mailbox; None when it is already as wanted (the service would write nothing)."""
        dn = self._dn(mailbox)
        if selection.target is not None:
            if after.unit_code == mailbox.unit_code:
                return None
            return Op(index, MOVE, dn, mailbox.uid, target=self._dn(after), before=move_values(mailbox.tier),
                      after=move_values(after.tier))
        before = {**status_values(mailbox.status, stored_date(mailbox.retain_until)), "pwdAccountLockedTime": locked}
        wanted = status_values(after.status, stored_date(after.retain_until))
        if before == wanted:
            return None
        return Op(index, MODIFY, dn, mailbox.uid, before={**before, EPOCH: _epoch()}, after={**wanted, EPOCH: _epoch()},
                  bulk=True)

    def _dn(self, mailbox: Mailbox) -> str:
        return dit.mailbox_dn(mailbox.uid, self.mailboxes.units.get(mailbox.unit_code).path, self.client.base_dn)

    # -- apply, resume, undo -------------------------------------------------------------------

    def apply(self, job: Job, progress: Progress | None = None) -> dict[str, Any]:
        """Run (or resume) a job to its end; returns the summary."""
        with applying(job) as resuming:
            return self._finish(job, apply_ops(job, self._engine(progress), resuming, job_writes(job)))

    def resume(self, job_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Finish an interrupted job (crash, directory outage)."""
        return self.apply(self.job(job_id), progress)

    def undo(self, job_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Put every mailbox the job changed back as it was; one changed again since is left alone and reported."""
        job = self.job(job_id)
        self._keep_a_super_admin(job)
        with job.undoing():
            engine = self._engine(progress)
            writes = job_writes(job)
            undone = undo_ops(job, engine, writes, self._unchanged_since(writes))
            self.audit.record_many(_undo_changes(job, undone))
            return job.finish_undo(undone, self.audit, "mailbox.bulk_undo")

    def _unchanged_since(self, writes: list[Op]) -> Held:
        """Undo leaves alone, and reports, a mailbox whose status, tier or place changed since the job. The
        mailboxes are read when the first is asked about (before any write), in a search per 200 uids."""
        @cache
        def now() -> dict[str, Entry]:
            return self.mailboxes.store.entries_of((op.subject.lower() for op in writes), COMPARED)

        def held(inverse: Op) -> str | None:
            return None if _shows(now().get(inverse.subject.lower()), inverse.inverse()) else CHANGED_SINCE
        return held

    def _keep_a_super_admin(self, job: Job) -> None:
        """Conflict if undoing a reactivation would suspend (or retire) again every active super admin: the
        rule of each single suspension, whoever undoes (web or command line)."""
        applied = job.outcomes()
        locking = [record["subject"] for record in job.records() if applied.get(record["index"]) == "ok"
                   and record["kind"] == MODIFY and record["records"][0]["status"] != Status.ACTIVE.value]
        if locking:
            keep_a_super_admin(self.mailboxes.roles, *locking)

    def authorize_undo(self, person: Principal, job: Job) -> None:
        """PermissionDenied unless the person may change every mailbox the job changed, where it is now and
        (for a move) in the unit it would go back to."""
        applied = job.outcomes()
        self._authorize(person, [record for record in job.records() if applied.get(record["index"]) == "ok"], 0)

    def authorize_resume(self, person: Principal, job: Job) -> None:
        """PermissionDenied unless the person may still change every mailbox the job has yet to write, where it
        is now and (for a move) in the target unit: their rights may have shrunk since the job was planned."""
        applied = job.outcomes()
        self._authorize(person, [record for record in job.records()
                                 if record["kind"] != UNCHANGED and record["index"] not in applied], 1)

    def _authorize(self, person: Principal, records: list[dict[str, Any]], side: int) -> None:
        """The rule of every single change for each record's mailbox as it is now; for a move, the manage
        check on the unit of its `side` record (0: where it was, 1: where the job takes it)."""
        units = self.mailboxes.units
        for code in dict.fromkeys(record["records"][side]["unit_code"] for record in records
                                  if record["kind"] == MOVE):
            unit = units.get(code)
            require(person.may_manage(unit), unit)
        # Read in a search per 200 uids; a mailbox gone since is left out: the directory refuses its write or
        # undo, nobody's rights are needed for it.
        current = self.mailboxes.store.get_many((record["subject"].lower() for record in records), gone_ok=True)
        self.mailboxes.authorize_many(person, current)

    def prune(self, now: datetime | None = None) -> dict[str, list[str]]:
        """The imports' housekeeping over var/bulk/ (prune_jobs, as ImportService.prune, the same settings: a job
        never applied past imports.unconfirmed_hours goes, journals of finished jobs and jobs being applied
        or interrupted stay, a job another process holds is skipped), and the form markers past that time
        or whose job is gone."""
        now = now or datetime.now(UTC)
        jobs = prune_jobs(self.jobs_dir, self.settings.imports, self.audit, now, "bulk")["jobs"]
        return {"jobs": jobs, "markers": self._prune_markers(now.timestamp())}

    def _prune_markers(self, now: float) -> list[str]:
        """Delete the submission markers older than imports.unconfirmed_hours or naming a job no longer there."""
        oldest = now - self.settings.imports.unconfirmed_hours * 3600
        folder = self.jobs_dir / "submitted"
        removed = []
        for marker in sorted(folder.iterdir()) if folder.is_dir() else ():
            try:
                job_id = marker.read_text(encoding="utf-8").strip()
                if marker.stat().st_mtime < oldest or (job_id and not (self.jobs_dir / job_id / "job.json").exists()):
                    marker.unlink()
                    removed.append(marker.name)
            except FileNotFoundError:
                continue  # another prune took it
        return removed

    def _engine(self, progress: Progress | None) -> Engine:
        return Engine(self.client, self.settings.imports.batch_size, progress)

    def _finish(self, job: Job, outcomes: dict[int, str]) -> dict[str, Any]:
        refused = dict(failures(outcomes))
        done = sum(1 for outcome in outcomes.values() if outcome == "ok")
        job.set_state("done", done=done, failed=len(refused))
        meta = job.meta()
        self.audit.record_many([*_changes(job, outcomes),
                                ("mailbox.bulk", job.id, None, {"action": meta["action"], "target": meta["target"],
                                                                "done": done, "failed": len(refused)})])
        return {"job": job.id, "state": "done", "action": meta["action"], "done": done,
                "unchanged": meta["counts"].get(UNCHANGED, 0), "failed_count": len(refused),
                "failed": [{"index": i, "reason": r} for i, r in refused.items()][:SHOWN_ROWS]}

    # -- what the job page and the command line show ------------------------------------------

    def job(self, job_id: str) -> Job:
        return Job.open(self.jobs_dir, job_id)

    def jobs(self) -> list[dict[str, Any]]:
        """Every bulk job, oldest first: its status, when and by whom it was started."""
        return [self.summary(job) for job in Job.every(self.jobs_dir)]

    def summary(self, job: Job) -> dict[str, Any]:
        """A job's status with when it was journaled and who started it (`bulk status`, `bulk list`)."""
        meta = job.meta()
        return {**self.status(job), "created": meta.get("created"), "owner": meta.get("owner")}

    def status(self, job: Job) -> dict[str, Any]:
        """What a job planned and how far it got (the progress page polls this)."""
        meta = job.meta()
        counts = meta["counts"]
        writes = sum(count for kind, count in counts.items() if kind != UNCHANGED)
        outcomes, undone = job.outcomes(), job.outcomes("undo.log")
        undoing = meta["state"] in ("undoing", "undone")
        return {"job": job.id, "state": meta["state"], "action": meta["action"], "target": meta.get("target"),
                "counts": counts, "total": sum(1 for o in outcomes.values() if o == "ok") if undoing else writes,
                "done": len(undone) if undoing else len(outcomes), "unchanged": counts.get(UNCHANGED, 0),
                "failed": sum(1 for o in outcomes.values() if o != "ok"),
                "not_undone": sum(1 for o in undone.values() if o != "ok"), "in_doubt": meta.get("in_doubt")}

    def rows(self, job: Job) -> list[dict[str, Any]]:
        """Per mailbox (the first SHOWN_ROWS): who, before and after, and how the write and its undo went."""
        outcomes, undone = job.outcomes(), job.outcomes("undo.log")
        rows: list[dict[str, Any]] = []
        for record in job.records():
            if len(rows) >= SHOWN_ROWS:
                break
            before, after = record["records"]
            index = record["index"]
            rows.append({"uid": record["subject"], "name": before.get("full_name", ""), "before": before,
                         "after": after, "outcome": UNCHANGED if record["kind"] == UNCHANGED
                         else outcomes.get(index, "pending"), "undo": undone.get(index, "")})
        return rows


def _claim(marker: Path) -> bool:
    """Make the marker of a form's submission; False when an earlier sending made it (kept across processes)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


def job_writes(job: Job) -> list[Op]:
    """The writes a job planned, in order (mailboxes already as wanted left out)."""
    return [Op.of_data(record) for record in job.records() if record["kind"] != UNCHANGED]


def _shows(entry: Entry | None, forward: Op) -> bool:
    """Does a mailbox as read now still show a write of the job: in its place, with what COMPARED holds?"""
    place = forward.target if forward.kind == MOVE else forward.dn
    return entry is not None and entry.dn.lower() == place.lower() and all(
        same_values(entry.texts(name), values) for name, values in forward.after.items() if name in COMPARED)


def _action(record: dict[str, Any]) -> str:
    """The single action's audit name for a mailbox record (after the write)."""
    return "mailbox.move" if record["kind"] == MOVE else status_action(Status(record["records"][1]["status"]))


def _changes(job: Job, outcomes: dict[int, str]) -> Iterator[Change]:
    """The audit entries of the single actions, one per mailbox written, each naming the job."""
    for record in job.records():
        if outcomes.get(record["index"]) == "ok":
            before, after = record["records"]
            yield _action(record), record["subject"], before, {**after, "job": job.id}


def _undo_changes(job: Job, undone: dict[int, str]) -> Iterator[Change]:
    """One entry per mailbox put back: the action that put it back, from the job's after to its before."""
    for record in job.records():
        if undone.get(record["index"]) == "ok":
            before, after = record["records"]
            back = {**record, "records": [after, before]}
            yield _action(back), record["subject"], after, {**before, "undo": job.id}
