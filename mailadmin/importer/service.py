"""The import pipeline as one service for the CLI and the web: preview (pure) -> start -> apply -> results."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from mailadmin.audit import AuditLog, Change
from mailadmin.errors import ConfigError, Conflict, DirectoryUnavailable, InvalidInput, MailadminError
from mailadmin.i18n import Text, t
from mailadmin.importer.apply import Progress, Writer, apply_job, undo_job
from mailadmin.importer.columns import FORMULA_STARTS, ignored_note, ignored_summary
from mailadmin.importer.engine import applying
from mailadmin.importer.journal import Job
from mailadmin.importer.parse import FORMATS, guess_format, parse_file
from mailadmin.importer.plan import WRITES, Action, Outcome, Plan, PlanOptions, make_plan
from mailadmin.importer.report import result_rows, results_csv, summary, write_once
from mailadmin.importer.snapshot import Snapshot
from mailadmin.importer.validate import validate
from mailadmin.model import Mailbox
from mailadmin.passwords import generate_password
from mailadmin.services.mailboxes import MailboxQuery, MailboxService, mailbox_record
from mailadmin.settings import Imports, Settings

RESULTS_FILE = "results.csv"
log = logging.getLogger(__name__)
WelcomeSender = Callable[[str, str], object]  # (uid, language): sends one welcome mail or raises


@dataclass(frozen=True)
class Preview:
    """A file's complete plan, computed without writing anything."""

    plan: Plan
    file_name: str
    file_format: str
    options: PlanOptions = field(default_factory=PlanOptions)
    notes: tuple[Text, ...] = ()  # about the whole file (columns left out)
    ignored_columns: tuple[str, ...] = ()  # every column left out, as 'position (name)'

    def summary(self) -> dict[str, Any]:
        """Counts by outcome and errors with rows (no job yet), notes, and the columns left out (count, first)."""
        return {**summary(None, self.plan.actions, None, "preview"),
                "notes": [{"vi": note.render("vi"), "en": note.render("en")} for note in self.notes],
                "ignored_columns": ignored_summary(self.ignored_columns)}


def _file_notes(ignored_columns: tuple[str, ...]) -> tuple[Text, ...]:
    """A warning naming the columns the import left out (the first few, and how many more), if any."""
    if not ignored_columns:
        return ()
    names = ignored_note(ignored_columns)
    return (t("Bỏ qua các cột không dùng cho nhập: {vi}", "columns not used by the import were left out: {en}",
              vi=names.render("vi"), en=names.render("en")),)


def _initial_password() -> str:
    """A generated password that no spreadsheet takes for a formula (so the results file shows it as is)."""
    while True:
        password = generate_password()
        if not password.startswith(FORMULA_STARTS):
            return password


def _row_changes(job_id: str, actions: list[Action], applied: dict[int, str]) -> Iterator[Change]:
    """One audit entry per mailbox the job changed, so that each mailbox's history shows the import."""
    for action in actions:
        if action.outcome in WRITES and applied.get(action.index) == "ok" and action.after is not None:
            before = mailbox_record(action.before) if action.before else None
            yield (f"mailbox.{action.outcome.value}", action.after.uid, before,
                   {**mailbox_record(action.after), "import": job_id})


def prune_jobs(jobs_dir: Path, limits: Imports, audit: AuditLog, now: datetime,
               kind: str) -> dict[str, list[str]]:
    """Delete the jobs of `jobs_dir` never confirmed and results files never taken, once past their time;
    audited as `KIND.prune`.

    Both hold initial passwords. Jobs being applied or undone, and the journals of finished
    jobs (status, undo), are kept; a job another process holds is skipped.
    """
    removed: dict[str, list[str]] = {"jobs": [], "results": []}
    for job in Job.every(jobs_dir):
        try:
            with job.locked():
                _prune_job(job, limits, now, removed)
        except (Conflict, OSError, ValueError, KeyError) as exc:
            log.warning("%s job %s left as it is: %s", kind, job.id, exc)
    if removed["jobs"] or removed["results"]:
        audit.record(f"{kind}.prune", "jobs", after=removed)
    return removed


def _prune_job(job: Job, limits: Imports, now: datetime, removed: dict[str, list[str]]) -> None:
    """Remove a held job never confirmed, or its results file never taken, if past its time."""
    state, results = job.state, job.folder / RESULTS_FILE
    if state == "planned" and now - job.created > timedelta(hours=limits.unconfirmed_hours):
        job.remove()
        removed["jobs"].append(job.id)
    elif state != "applying" and results.exists() and \
            now.timestamp() - results.stat().st_mtime > limits.results_days * 86400:
        results.unlink()
        removed["results"].append(job.id)


class ImportService:
    """Bulk import and export of mailboxes."""

    def __init__(self, settings: Settings, mailboxes: MailboxService, audit: AuditLog,
                 welcome: WelcomeSender | None = None) -> None:
        self.settings = settings
        self.mailboxes = mailboxes
        self.audit = audit
        self.welcome = welcome
        self.jobs_dir = settings.state_dir / "jobs"

    # -- pure part ---------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The directory as validation and planning see it (read once)."""
        domain = self.settings.organisation.mail_domain
        store = self.mailboxes.store
        return Snapshot.of(self.mailboxes.units.index(), list(store.search()), store.all_local_parts(domain),
                           domain, self.settings.addresses.pattern, self.settings.addresses.reserved,
                           self.settings.names)

    def check_size(self, size: int) -> None:
        """Refuse a file above imports.max_file_mib (before reading it whole)."""
        limit = self.settings.imports.max_file_mib
        if size > limit * 1024 * 1024:
            raise InvalidInput(t("Tệp lớn hơn {n} MB (giới hạn imports.max_file_mib); hãy chia nhỏ tệp",
                                 "the file is larger than {n} MB (imports.max_file_mib); split it", n=limit))

    def preview(self, data: bytes, file_name: str = "-", file_format: str | None = None,
                options: PlanOptions | None = None, snapshot: Snapshot | None = None) -> Preview:
        """Parse, validate and plan a file against the directory as it is now; writes nothing."""
        self.check_size(len(data))
        chosen = file_format or guess_format(file_name, data)
        if chosen not in FORMATS:
            raise InvalidInput(t("Định dạng không hỗ trợ: {f}", "unsupported format: {f}", f=chosen), "format")
        parsed = parse_file(data, chosen, self.settings.imports.max_rows)
        notes, ignored = _file_notes(parsed.ignored_columns), parsed.ignored_columns
        snapshot = snapshot or self.snapshot()
        people, errors = validate(parsed.rows, snapshot)
        # Each stage's rows are let go once the next holds what it needs: at 100,000 rows the
        # parsed cells and the validated people are ~65 MB each, and the plan is as large again.
        del parsed
        options = options or PlanOptions(retention_days=self.settings.mailboxes.retention_days)
        plan = make_plan(people, errors, snapshot, options)
        del people, errors
        return Preview(self._with_defaults(plan), file_name, chosen, options, notes, ignored)

    def _with_defaults(self, plan: Plan) -> Plan:
        """Created mailboxes get what the mailbox service gives every new one (imported ones had no quota).

        In place: a second list of 100,000 actions would hold both versions of every new mailbox at once.
        """
        actions = plan.actions
        for position, action in enumerate(actions):
            if action.outcome is Outcome.CREATE and action.after is not None:
                actions[position] = replace(action, after=self.mailboxes.with_defaults(action.after))
        return plan

    # -- writing -----------------------------------------------------------------------------

    def start(self, preview: Preview, *, all_or_nothing: bool = False, welcome: str | None = None) -> Job:
        """Journal the plan and the initial passwords; nothing is written to the directory yet.

        `welcome` ("vi" or "en"): once applied, every mailbox the job created gets the welcome mail.
        """
        if welcome not in (None, "vi", "en"):
            raise InvalidInput(t("Ngôn ngữ thư chào mừng phải là vi hoặc en", "the welcome mail language must "
                                 "be vi or en"), "welcome")
        if all_or_nothing and preview.plan.errors:
            raise InvalidInput(t("Có {n} dòng lỗi: không nhập gì (--all-or-nothing)",
                                 "{n} rows have errors: nothing imported (--all-or-nothing)",
                                 n=len(preview.plan.errors)))
        self.prune()
        job = Job.create(self.jobs_dir, preview.plan, {
            "file": preview.file_name, "format": preview.file_format, "all_or_nothing": all_or_nothing,
            "notes": preview.summary()["notes"],
            "retire_missing": preview.options.retire_missing, "welcome": welcome})
        job.write_secrets({a.index: _initial_password() for a in preview.plan.actions
                           if a.outcome is Outcome.CREATE})
        return job

    def apply(self, job: Job, progress: Progress | None = None, report: Path | None = None) -> dict[str, Any]:
        """Run (or resume) a job to its end; writes the results file once; returns the summary."""
        if report is not None and report.exists():  # before the job is marked applying: a refused one stays as it was
            raise Conflict(t("Tệp {path} đã có; không ghi đè", "{path} exists; not overwritten", path=report))
        with applying(job) as resuming:
            applied = self._apply_once(job, progress, resuming)
            if applied is None:
                # A server lost mid-run: the client has passed it over, so resume once at once on the
                # next one (replicated peers); the journal and the directory say what was applied.
                applied = apply_job(job, self._writer(progress), True)
            return self._finish(job, applied, report)

    def _apply_once(self, job: Job, progress: Progress | None, resuming: bool) -> dict[int, str] | None:
        """The job's writes; None when the directory was lost on the way.

        The resume runs outside this call's `except`: the exception's traceback holds the first
        attempt's plan and writes, which at 100,000 rows doubled the peak memory (278 -> 475 MiB).
        """
        try:
            return apply_job(job, self._writer(progress), resuming)
        except DirectoryUnavailable:  # CommitInDoubt too: the resume first asks the server that held the commit
            return None

    def resume(self, job_id: str, progress: Progress | None = None, report: Path | None = None) -> dict[str, Any]:
        """Finish an interrupted job (crash, Ctrl-C, directory outage)."""
        return self.apply(self.job(job_id), progress, report)

    def undo(self, job_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Revert a finished job; mailboxes changed since are left alone and reported."""
        job = self.job(job_id)
        with job.undoing():
            return job.finish_undo(undo_job(job, self._writer(progress), self._current()), self.audit, "import.undo")

    def status(self, job_id: str) -> dict[str, Any]:
        """What a job planned and how far it got."""
        job = self.job(job_id)
        meta = job.meta()
        applied = job.outcomes() if meta["state"] != "planned" else None
        return {**summary(job.id, list(job.actions()), applied, meta["state"]),
                "file": meta.get("file"), "created": meta.get("created"), "in_doubt": meta.get("in_doubt")}

    def job(self, job_id: str) -> Job:
        return Job.open(self.jobs_dir, job_id)

    def prune(self, now: datetime | None = None) -> dict[str, list[str]]:
        """Delete jobs never confirmed and results files never taken, once past their time (prune_jobs)."""
        return prune_jobs(self.jobs_dir, self.settings.imports, self.audit, now or datetime.now(UTC), "import")

    def take_results(self, job_id: str) -> bytes:
        """The results file of a job, handed out once (then deleted: it holds passwords)."""
        path = self.job(job_id).folder / RESULTS_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Conflict(t("Tệp kết quả đã được tải hoặc không có", "the results file was taken already or "
                             "does not exist")) from None
        path.unlink()
        return data

    def _finish(self, job: Job, applied: dict[int, str], report: Path | None) -> dict[str, Any]:
        actions = list(job.actions())
        write_once(report or job.folder / RESULTS_FILE, results_csv(result_rows(actions, applied, job.secrets())))
        job.forget_secrets()
        result = summary(job.id, actions, applied, "done")
        job.set_state("done", results=str(report or job.folder / RESULTS_FILE), final_counts=result["counts"])
        self.audit.record_many(chain(_row_changes(job.id, actions, applied), [
            ("import.apply", job.id, None, {"file": job.meta().get("file"), **result["counts"]})]))
        language = job.meta().get("welcome")
        if language:
            result["welcome"] = self._welcome(job, actions, applied, language)
        return result

    def send_welcome(self, job_id: str, language: str = "vi") -> dict[str, Any]:
        """Welcome mails for the mailboxes a finished job created that have not had one yet."""
        job = self.job(job_id)
        with job.locked():
            if job.state != "done":
                raise Conflict(t("Công việc {job} chưa xong ({state})", "job {job} is not finished ({state})",
                                 job=job.id, state=job.state))
            return self._welcome(job, list(job.actions()), job.outcomes(), language)

    def _welcome(self, job: Job, actions: list[Action], applied: dict[int, str], language: str) -> dict[str, Any]:
        """Send, skipping those already welcomed (welcome.log); an unsent mail never fails the import."""
        if self.welcome is None:
            raise ConfigError(t("Chưa cấu hình gửi thư", "no mail sender configured"))
        created = [a.after.uid for a in actions
                   if a.outcome is Outcome.CREATE and a.after is not None and applied.get(a.index) == "ok"]
        done = job.welcomed()
        sent, failed = [], []
        for uid in created:
            if uid in done:
                continue
            try:
                self.welcome(uid, language)
            except MailadminError as error:
                failed.append({"uid": uid, "error": error.message.both()})
                continue
            job.record_welcome(uid)
            sent.append(uid)
        return {"sent": len(sent), "already": len([u for u in created if u in done]), "failed": failed}

    def _writer(self, progress: Progress | None) -> Writer:
        self.mailboxes.units.forget()
        return Writer(self.mailboxes.store, self.mailboxes.units.index(), self.settings.imports.batch_size,
                      progress)

    def _current(self) -> dict[str, Mailbox]:
        return {m.uid: m for m in self.mailboxes.store.search()}

    # -- export ------------------------------------------------------------------------------

    def export(self, unit_code: str | None = None) -> Iterator[Mailbox]:
        """Every mailbox of a unit subtree (all when None), in directory order."""
        return self.mailboxes.find(MailboxQuery(unit_code=unit_code))
