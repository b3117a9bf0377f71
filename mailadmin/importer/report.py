"""Results for HR: counts by outcome, and a per-row CSV Excel opens (UTF-8 BOM, formula-safe)."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailadmin.errors import Conflict
from mailadmin.excel_csv import CsvForExcel, restore
from mailadmin.i18n import t
from mailadmin.importer.plan import WRITES, Action, Plan, describe

OUTCOME_NAMES = {"create": "Tạo mới (create)", "update": "Cập nhật (update)", "move": "Chuyển đơn vị (move)",
                 "retire": "Thôi sử dụng (retire)", "unchanged": "Không đổi (unchanged)", "error": "Lỗi (error)",
                 "failed": "Thất bại (failed)", "pending": "Chưa làm (pending)"}
BLOCK_CHARS = 1 << 20  # the results file is written a block of about this many characters at a time
RESULT_HEADERS = ("Dòng (Line)", "Mã nhân sự (HR id)", "Họ tên (Full name)", "Đơn vị (Unit)",
                  "Thư điện tử (Mail)", "Kết quả (Outcome)", "Ghi chú (Details)", "Mật khẩu ban đầu (Initial password)")


def final_outcome(action: Action, applied: dict[int, str] | None) -> tuple[str, str]:
    """(outcome, details): the plan's, or 'failed' with the directory's reason."""
    details = describe(action).both() if action.error or action.changes or action.warnings else ""
    if applied is None or action.outcome not in WRITES:
        return action.outcome.value, details
    result = applied.get(action.index)
    if result == "ok":
        return action.outcome.value, details
    if result is None:
        return "pending", details
    return "failed", result.removeprefix("failed ")


def counts(actions: Iterable[Action], applied: dict[int, str] | None) -> dict[str, int]:
    """How many rows ended in each outcome (failed and pending only when there are some)."""
    found = Counter(final_outcome(action, applied)[0] for action in actions)
    base = {outcome: found.pop(outcome, 0) for outcome in Plan([]).counts()}
    return {**base, **found}


def result_rows(actions: Iterable[Action], applied: dict[int, str] | None,
                passwords: dict[int, str]) -> Iterable[list[str]]:
    """One row per action, passwords only for people created now."""
    for action in actions:
        outcome, details = final_outcome(action, applied)
        password = passwords.get(action.index, "") if outcome == "create" and applied is not None else ""
        yield [str(action.line or ""), action.hr_id, *who(action), OUTCOME_NAMES.get(outcome, outcome), details,
               password]


def who(action: Action) -> list[str]:
    """Name, unit and mail of the row's person: the mailbox, or what the refused row said."""
    mailbox = action.after or action.before
    if mailbox is not None:
        return [mailbox.name.full, mailbox.unit_code, mailbox.mail]
    cells = action.error.cells if action.error else {}
    return [cells.get("full_name", ""), cells.get("unit", ""), cells.get("mail", "")]


def results_csv(rows: Iterable[list[str]]) -> Iterator[bytes]:
    """The results file's bytes, a block of rows at a time: BOM, header, cells Excel shows as text.

    In blocks so that 100,000 rows never sit in memory as one text (~50 MB at that size).
    """
    sheet = CsvForExcel()
    sheet.write(RESULT_HEADERS)
    for row in rows:
        sheet.write(row)
        if sheet.pending() >= BLOCK_CHARS:
            yield sheet.take()
    yield sheet.take()


def write_once(path: Path, blocks: Iterable[bytes]) -> None:
    """Create `path` with mode 0600 from `blocks`; never overwrite (it may hold passwords).

    A file whose blocks could not all be made is removed: never a half-written results file.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Conflict(t("Tệp {path} đã có; không ghi đè", "{path} exists; not overwritten", path=path)) from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            for block in blocks:
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def summary(job_id: str | None, actions: list[Action], applied: dict[int, str] | None,
            state: str) -> dict[str, Any]:
    """The machine-readable summary (`--json`): counts by outcome, errors with rows."""
    errors = [a.error.record() for a in actions if a.error is not None]
    warnings = [w.warning() for a in actions for w in a.warnings]
    failed = [{"line": a.line, "hr_id": a.hr_id, "uid": a.uid, "error": final_outcome(a, applied)[1]}
              for a in actions if final_outcome(a, applied)[0] == "failed"]
    return {"job": job_id, "state": state, "counts": counts(actions, applied), "errors": errors, "warnings": warnings,
            "failed": failed}


@dataclass(frozen=True)
class Handover:
    """One new official for the unit clerk's sheet: who, which address, the initial password."""

    unit_code: str
    full_name: str
    mail: str
    password: str


def handover_rows(results: bytes) -> list[Handover]:
    """The people a results file says were created, with their initial passwords, by unit then name."""
    reader = csv.reader(io.StringIO(results.decode("utf-8-sig")))
    next(reader, None)
    created = OUTCOME_NAMES["create"]
    rows = [Handover(restore(row[3]), restore(row[2]), restore(row[4]), restore(row[7]))
            for row in reader if len(row) >= 8 and row[5] == created and row[7]]
    return sorted(rows, key=lambda row: (row.unit_code, row.full_name))
