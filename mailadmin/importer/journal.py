"""The durable job journal: var/jobs/JOB/ holds the plan, the outcome of every write and the job's state.

Files (folder mode 0700, files 0600):
  job.json       id, file name, options, state, counts (rewritten atomically)
  plan.jsonl     one action per line, before and after as plain data (no passwords)
  secrets.jsonl  initial passwords of the creates, written before the first write and
                 deleted once the results file is written
  done.log       "INDEX ok" / "INDEX failed REASON" per applied write (appended, fsynced per batch)
  undo.log       the same for an undo
  welcome.log    uids sent their welcome mail (appended, fsynced per mail)
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from mailadmin.audit import AuditLog
from mailadmin.durable import private_file, replace_file
from mailadmin.errors import Conflict, NotFound
from mailadmin.i18n import t
from mailadmin.importer.plan import Action, Outcome, Plan
from mailadmin.importer.validate import RowError
from mailadmin.model import Mailbox, PersonName, Status, Tier

STATES = ("planned", "applying", "done", "undoing", "undone")


def mailbox_data(mailbox: Mailbox | None) -> dict[str, Any] | None:
    """A mailbox as JSON-able data (certificates left out: an import never writes them)."""
    if mailbox is None:
        return None
    data = asdict(mailbox)
    data.pop("certificates")
    data["retain_until"] = mailbox.retain_until.isoformat() if mailbox.retain_until else None
    return data


def mailbox_from_data(data: dict[str, Any] | None) -> Mailbox | None:
    """The inverse of mailbox_data."""
    if data is None:
        return None
    values = dict(data)
    # Names, units and titles repeat from row to row: one text each instead of one per row read
    # back (100,000 rows read back for an import's writes and results: ~30 MB less).
    values["name"] = PersonName(**{key: _shared(value) for key, value in values["name"].items()})
    values["unit_code"], values["title"] = _shared(values["unit_code"]), _shared(values["title"])
    values["tier"], values["status"] = Tier(values["tier"]), Status(values["status"])
    values["aliases"] = tuple(values["aliases"])
    values["retain_until"] = date.fromisoformat(values["retain_until"]) if values["retain_until"] else None
    return Mailbox(**values)


def _shared(value: Any) -> Any:
    return sys.intern(value) if isinstance(value, str) else value


def action_data(action: Action) -> dict[str, Any]:
    """One plan step as a JSON line."""
    error = action.error
    return {"index": action.index, "outcome": action.outcome.value, "line": action.line, "hr_id": action.hr_id,
            "before": mailbox_data(action.before), "after": mailbox_data(action.after),
            "changes": list(action.changes),
            "error": _note_data(error) if error else None,
            "warnings": [_note_data(warning) for warning in action.warnings]}


def _note_data(note: RowError) -> dict[str, Any]:
    return {"column": note.column, "field": note.field, "vi": note.message.render("vi"),
            "en": note.message.render("en"), "cells": note.cells}


def action_from_data(data: dict[str, Any]) -> Action:
    """The inverse of action_data (journals written before warnings existed have none)."""
    error = data["error"]
    return Action(data["index"], Outcome(data["outcome"]), data["line"], data["hr_id"],
                  mailbox_from_data(data["before"]), mailbox_from_data(data["after"]), tuple(data["changes"]),
                  _note(data["line"], error) if error else None,
                  tuple(_note(data["line"], warning) for warning in data.get("warnings", ())))


def _note(line: int, data: dict[str, Any]) -> RowError:
    return RowError(line, data["column"], data["field"], t(_literal(data["vi"]), _literal(data["en"])),
                    data.get("cells") or {})


def _literal(text: str) -> str:
    """A rendered message as a template that renders to itself."""
    return text.replace("{", "{{").replace("}", "}}")


JOB_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{6}")  # what new_job_id makes: nothing else names a folder


def new_job_id() -> str:
    """Sortable and unguessable: 20261129-153000-3f9a1c."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


class Job:
    """One import job's folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.id = folder.name

    # -- creation and state ------------------------------------------------------------------

    @classmethod
    def create(cls, jobs_dir: Path, plan: Plan, meta: dict[str, Any]) -> Job:
        """Write the plan and the job description, durably, before anything else happens."""
        return cls.create_records(jobs_dir, (action_data(action) for action in plan.actions),
                                  {**meta, "counts": plan.counts()})

    @classmethod
    def create_records(cls, jobs_dir: Path, records: Iterable[dict[str, Any]], meta: dict[str, Any]) -> Job:
        """A job of any plan (import rows, reorganisation writes): its steps as JSON lines, then job.json."""
        jobs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        job = cls(jobs_dir / new_job_id())
        job.folder.mkdir(mode=0o700)
        with private_file(job.folder / "plan.jsonl") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        job.save({**meta, "id": job.id, "state": "planned",
                  "created": datetime.now(UTC).isoformat(timespec="seconds")})
        return job

    @classmethod
    def every(cls, jobs_dir: Path) -> Iterator[Job]:
        """Every job folder below jobs_dir, oldest first."""
        if jobs_dir.is_dir():
            for folder in sorted(jobs_dir.iterdir()):
                if (folder / "job.json").is_file():
                    yield cls(folder)

    @classmethod
    def open(cls, jobs_dir: Path, job_id: str) -> Job:
        """An existing job, or NotFound (the id is checked: no path tricks)."""
        folder = jobs_dir / job_id
        if not JOB_ID.fullmatch(job_id or "") or not (folder / "job.json").is_file():
            raise NotFound(t("Không có công việc {job}", "no job {job}", job=job_id))
        return cls(folder)

    def meta(self) -> dict[str, Any]:
        return json.loads((self.folder / "job.json").read_text(encoding="utf-8"))

    def save(self, meta: dict[str, Any]) -> None:
        """Replace job.json atomically."""
        replace_file(self.folder / "job.json", json.dumps(meta, ensure_ascii=False, indent=1))

    def set_state(self, state: str, **extra: Any) -> None:
        self.save({**self.meta(), "state": state, **extra})

    def note_in_doubt(self, server: str | None) -> None:
        """Record the server holding one of the job's commits unanswered (errors.CommitInDoubt); None clears it."""
        meta = {key: value for key, value in self.meta().items() if key != "in_doubt"}
        self.save({**meta, "in_doubt": server} if server else meta)

    @property
    def in_doubt(self) -> str | None:
        """The server recorded by note_in_doubt, if any."""
        return self.meta().get("in_doubt")

    @property
    def state(self) -> str:
        return str(self.meta()["state"])

    @property
    def created(self) -> datetime:
        """When the job was journalled (UTC)."""
        return datetime.fromisoformat(self.meta()["created"])

    def remove(self) -> None:
        """Delete the job's folder (plan, secrets, logs): the caller holds the job's lock."""
        shutil.rmtree(self.folder)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Only one process works on a job at a time."""
        with open(self.folder / "lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(t("Công việc {job} đang chạy ở tiến trình khác",
                                 "job {job} is running in another process", job=self.id)) from None
            yield

    @contextmanager
    def undoing(self) -> Iterator[None]:
        """Hold the job and mark it 'undoing'; only a finished (or half-undone) job may be undone."""
        with self.locked():
            if self.state not in ("done", "undoing"):
                raise Conflict(t("Chỉ hoàn tác được công việc đã xong; {job} đang {state}",
                                 "only a finished job can be undone; {job} is {state}", job=self.id, state=self.state))
            self.set_state("undoing")
            yield

    def finish_undo(self, undone: dict[int, str], audit: AuditLog, action: str) -> dict[str, Any]:
        """Mark the job 'undone', audit it; the summary the CLI and the web show."""
        refused = {index: reason.removeprefix("failed ") for index, reason in undone.items() if reason != "ok"}
        self.set_state("undone", undo_failed=len(refused))
        audit.record(action, self.id, after={"undone": len(undone) - len(refused), "not_undone": len(refused)})
        return {"job": self.id, "state": "undone", "undone": len(undone) - len(refused),
                "not_undone": [{"index": index, "reason": reason} for index, reason in refused.items()]}

    # -- plan, secrets, outcomes -------------------------------------------------------------

    def actions(self) -> Iterator[Action]:
        return map(action_from_data, self.records())

    def records(self) -> Iterator[dict[str, Any]]:
        """The plan's steps as journaled."""
        with open(self.folder / "plan.jsonl", encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)

    def write_secrets(self, passwords: dict[int, str]) -> None:
        with private_file(self.folder / "secrets.jsonl") as out:
            for index, password in passwords.items():
                out.write(json.dumps([index, password]) + "\n")

    def secrets(self) -> dict[int, str]:
        path = self.folder / "secrets.jsonl"
        if not path.exists():
            return {}
        with open(path, encoding="utf-8") as handle:
            return {int(index): password for index, password in map(json.loads, handle)}

    def welcomed(self) -> set[str]:
        """The mailboxes of this job that were sent their welcome mail."""
        path = self.folder / "welcome.log"
        return set(path.read_text(encoding="utf-8").split()) if path.exists() else set()

    def record_welcome(self, uid: str) -> None:
        """Remember (durably) that `uid` was sent its welcome mail."""
        with open(self.folder / "welcome.log", "a", encoding="utf-8") as log:
            log.write(uid + "\n")
            log.flush()
            os.fsync(log.fileno())

    def forget_secrets(self) -> None:
        (self.folder / "secrets.jsonl").unlink(missing_ok=True)

    def outcomes(self, log: str = "done.log") -> dict[int, str]:
        """INDEX -> "ok" or the failure reason, from a log (the last word on an index wins)."""
        path = self.folder / log
        found: dict[int, str] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                index, _, outcome = line.partition(" ")
                if index.isdigit():
                    found[int(index)] = outcome
        return found

    @contextmanager
    def log(self, name: str = "done.log") -> Iterator[OutcomeLog]:
        with open(self.folder / name, "a", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            entries = OutcomeLog(handle)
            try:
                yield entries
            finally:
                entries.sync()


class OutcomeLog:
    """Appends outcomes; sync() makes them durable (called per batch, not per line)."""

    def __init__(self, handle: TextIO) -> None:
        self._handle = handle

    def write(self, index: int, error: str | None) -> None:
        reason = " ".join((error or "").split())
        self._handle.write(f"{index} ok\n" if error is None else f"{index} failed {reason}\n")

    def sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
