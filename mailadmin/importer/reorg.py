"""Reorganisations as one service for the CLI and the web: preview (pure) -> start -> apply -> resume / undo."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from mailadmin.audit import AuditLog, Change
from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient, Entry
from mailadmin.errors import Conflict, InvalidInput
from mailadmin.i18n import t
from mailadmin.importer.engine import Engine, Progress, apply_ops, applying, failures, job_ops, undo_ops
from mailadmin.importer.journal import Job
from mailadmin.importer.ops import Op
from mailadmin.importer.reorgfile import ReorgFile, parse_plan
from mailadmin.importer.reorgplan import Present, Reorg, Row, expire_old_addresses, make_reorg
from mailadmin.services.units import UnitIndex, UnitService
from mailadmin.settings import Settings

SHOWN_PROBLEMS = 20
MAILBOX_READ = ("uid", "mail", "mailLocalAddress", "maTier", "maOldAddressUntil", "employeeNumber",
                "maAccountStatus")
ADDRESS_READ = ("uid", "mail", "mailLocalAddress")
# Entries other than mailboxes and lists that hold a uid or an address (few): they hold them in the new domain too.
OTHER_HOLDERS = filters.all_of(
    filters.any_of(*map(filters.present, ADDRESS_READ)),
    filters.negate(filters.eq("objectClass", "maMailbox")), filters.negate(filters.eq("objectClass", "groupOfNames")))


@dataclass(frozen=True)
class ReorgPreview:
    """A plan file and every write it leads to, computed without writing anything."""

    plan: ReorgFile
    reorg: Reorg
    file_name: str
    stamp: str = ""  # the directory's write counters when it was read ('' where the server shows none)

    def summary(self) -> dict[str, Any]:
        """What the dry run shows."""
        plan = self.plan
        return {"plan": plan.id, "title": plan.title, "effective": plan.effective.isoformat(),
                "domain": plan.domain, "holding_unit": plan.holding.code,
                "old_addresses_until": plan.old_addresses_until.isoformat() if plan.old_addresses_until else None,
                "closed_units": "keep" if plan.keep_closed else "delete",
                **self.reorg.summary()}


def _row(entry: Entry) -> Row:
    return Row(entry.dn, {name: [value.decode("utf-8") for value in values]
                          for name, values in entry.attributes.items() if not name.endswith(";binary")})


class ReorgService:
    """Carry the directory from one administrative structure to the next, journaled and undoable."""

    def __init__(self, settings: Settings, client: DirectoryClient, units: UnitService, audit: AuditLog) -> None:
        self.settings = settings
        self.client = client
        self.units = units
        self.audit = audit
        self.jobs_dir = settings.state_dir / "reorg"

    def present(self) -> Present:
        """The directory as planning sees it (read once)."""
        base = self.client.base_dn
        self.units.forget()
        search = self.client.search
        rows = [_row(entry) for entry in search(base, filters.eq("objectClass", "maUnit"))]
        unit_rows = {row.one("ou"): row for row in rows if not dit.is_former_unit(row.dn, base)}
        units, former = self.units.store.read()
        return Present(
            base, UnitIndex.of(units), unit_rows,
            [_row(e) for e in self.client.iter_search(base, filters.eq("objectClass", "maMailbox"),
                                                      attributes=MAILBOX_READ)],
            [_row(e) for e in search(base, filters.eq("objectClass", "groupOfNames"))],
            [_row(e) for e in search(base, filters.present("maAdminOf"), attributes=("uid", "maAdminOf"))],
            self.settings.organisation.mail_domain, frozenset(unit.code for unit in former),
            self.client.get(dit.history_dn(base)) is not None,
            [_row(e) for e in search(base, OTHER_HOLDERS, attributes=ADDRESS_READ)], self.settings.addresses.reserved)

    def preview(self, data: bytes, file_name: str = "-") -> ReorgPreview:
        """Parse and check a plan file and compute every write; writes nothing."""
        plan, problems = parse_plan(data)
        if plan is None:
            raise InvalidInput(t("Tệp kế hoạch {f} có {n} lỗi: {list}", "the plan file {f} has {n} problems: {list}",
                                 f=file_name, n=len(problems),
                                 list="; ".join(problem.both() for problem in problems[:SHOWN_PROBLEMS])))
        stamp = self.client.change_stamp()
        return ReorgPreview(plan, make_reorg(plan, self.present()), file_name, stamp)

    def start(self, preview: ReorgPreview) -> Job:
        """Journal every write of a conflict-free plan; nothing is written to the directory yet."""
        problems = preview.reorg.problems
        if problems:
            raise InvalidInput(t("Kế hoạch có {n} xung đột: không áp dụng. {list}",
                                 "the plan has {n} conflicts: not applied. {list}", n=len(problems),
                                 list="; ".join(problem.both() for problem in problems[:SHOWN_PROBLEMS])))
        return Job.create_records(self.jobs_dir, (op.as_data() for op in preview.reorg.ops), {
            "file": preview.file_name, "kind": "reorg", "counts": preview.reorg.summary()["writes"],
            "preview": preview.summary(), "stamp": preview.stamp})

    def apply(self, job: Job, progress: Progress | None = None) -> dict[str, Any]:
        """Run (or resume) a job to its end; returns the summary."""
        if job.state == "planned":  # before the job is marked applying: a refused one stays planned
            self._check_unchanged(job)
        with applying(job) as resuming:
            return self._finish(job, apply_ops(job, self._engine(progress), reconcile=resuming))

    def _check_unchanged(self, job: Job) -> None:
        """The writes were planned on the directory as it was: refuse them if it has been written to since."""
        stamp = job.meta().get("stamp")
        if stamp and self.client.change_stamp() != stamp:
            raise Conflict(t("Thư mục đã thay đổi sau khi xem trước công việc {job}: hãy tải kế hoạch lên lại",
                             "the directory changed after job {job} was previewed: upload the plan again", job=job.id))

    def resume(self, job_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Finish an interrupted job (crash, Ctrl-C, directory outage)."""
        return self.apply(self.job(job_id), progress)

    def undo(self, job_id: str, progress: Progress | None = None) -> dict[str, Any]:
        """Put the directory back as it was before the job (resumable too)."""
        job = self.job(job_id)
        with job.undoing():
            result = job.finish_undo(undo_ops(job, self._engine(progress)), self.audit, "reorg.undo")
            self.units.forget()
            return result

    def expire(self, today: date, dry_run: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """Drop the old addresses kept past their date, as a journaled job (`reorg undo JOB` puts them back)."""
        reorg = expire_old_addresses(self.present(), today)
        summary: dict[str, Any] = {"today": today.isoformat(), "mailboxes": reorg.readdressed, "dry_run": dry_run}
        if dry_run or not reorg.ops:
            return summary
        job = Job.create_records(self.jobs_dir, (op.as_data() for op in reorg.ops), {
            "file": f"expire {today.isoformat()}", "kind": "expire", "counts": reorg.summary()["writes"]})
        return {**summary, **self.apply(job, progress)}

    def status(self, job_id: str) -> dict[str, Any]:
        """What a job planned and how far it got."""
        job = self.job(job_id)
        meta = job.meta()
        outcomes = job.outcomes()
        return {"job": job.id, "state": meta["state"], "file": meta.get("file"), "created": meta.get("created"),
                "writes": meta.get("counts"), "done": sum(1 for r in outcomes.values() if r == "ok"),
                "failed": [{"index": i, "reason": r} for i, r in failures(outcomes)][:SHOWN_PROBLEMS],
                "undone": len(job.outcomes("undo.log")), "in_doubt": meta.get("in_doubt")}

    def job(self, job_id: str) -> Job:
        return Job.open(self.jobs_dir, job_id)

    def _engine(self, progress: Progress | None) -> Engine:
        return Engine(self.client, self.settings.imports.batch_size, progress)

    def _finish(self, job: Job, outcomes: dict[int, str]) -> dict[str, Any]:
        ops = job_ops(job)
        refused = dict(failures(outcomes))
        counts = dict(Counter(op.kind for op in ops if outcomes.get(op.index) == "ok"))
        job.set_state("done", final_counts=counts, failed=len(refused))
        self.units.forget()
        self.audit.record_many([*_changes(job.id, ops, outcomes),
                                ("reorg.apply", job.id, None, {"file": job.meta().get("file"), **counts})])
        return {"job": job.id, "state": "done", "written": counts,
                "failed": [{"index": i, "reason": r} for i, r in refused.items()][:SHOWN_PROBLEMS],
                "failed_count": len(refused)}


def _changes(job_id: str, ops: list[Op], outcomes: dict[int, str]) -> list[Change]:
    """One audit entry per write, so that each mailbox's and unit's history shows the reorganisation."""
    return [(f"reorg.{op.kind}", op.subject.partition(":")[2], {"dn": op.dn, **op.before} if op.kind == "modify"
             else {"dn": op.dn}, {"dn": op.target or op.dn, "job": job_id, **op.after} if op.kind == "modify"
             else {"dn": op.target or op.dn, "job": job_id})
            for op in ops if outcomes.get(op.index) == "ok"]
