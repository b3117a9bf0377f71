"""How the `mailadmin` command ends when something goes wrong: one bilingual line and an exit code.

Domain errors carry their own message and code. Anything else is a bug or the machine (a full
disk, a state folder that is a file): the person gets a line naming it and a correlation id, and
the traceback goes to the state folder's log, never to the terminal.
"""

from __future__ import annotations

import sys
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from mailadmin.errors import MailadminError
from mailadmin.i18n import Text, t

UNEXPECTED_EXIT = 1
LOG_NAME = "log/mailadmin-cli.log"


def fail(error: MailadminError) -> NoReturn:
    """Print a domain error in Vietnamese and English and exit with its code."""
    say(error.message)
    sys.exit(error.exit_code)


def say(message: Text) -> None:
    """An error line in Vietnamese, then in English, on standard error."""
    click.echo(f"Lỗi: {message.render('vi')}", err=True)
    click.echo(f"Error: {message.render('en')}", err=True)


def explain_usage(error: click.UsageError) -> None:
    """Say in Vietnamese, once per error, what click's English usage error below means."""
    if getattr(error, "explained", False):
        return
    error.explained = True  # type: ignore[attr-defined]  # an enclosing group sees the same error
    click.echo("Lỗi: lệnh gọi sai cách (thiếu, thừa hoặc sai tham số; chi tiết ở dòng Error bên dưới); "
               "xem `--help` của lệnh.", err=True)


def fail_unexpected(error: Exception, state_dir: Path | None) -> NoReturn:
    """Name the failure and a correlation id; the traceback goes to the log file."""
    correlation = uuid.uuid4().hex[:12]
    logged = _log_traceback(error, correlation, state_dir)
    say(_explain(error, correlation, logged))
    sys.exit(UNEXPECTED_EXIT)


def _explain(error: Exception, correlation: str, logged: Path | None) -> Text:
    if isinstance(error, OSError):
        what_vi, what_en = f"Lỗi hệ thống tệp: {_os_reason(error)}", f"file system error: {_os_reason(error)}"
    else:
        kind = type(error).__name__
        what_vi, what_en = f"Lỗi không lường trước ({kind})", f"unexpected error ({kind})"
    where_vi, where_en = (f" (chi tiết trong {logged})", f" (details in {logged})") if logged else ("", "")
    return t("{what}; mã tham chiếu {c}{where}", "{what_en}; correlation id {c}{where_en}", what=what_vi,
             what_en=what_en, c=correlation, where=where_vi, where_en=where_en)


def _os_reason(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    return f"{reason}: {error.filename}" if error.filename else reason


def _log_traceback(error: Exception, correlation: str, state_dir: Path | None) -> Path | None:
    """Append the traceback to the state folder's CLI log; None when that is not writable."""
    if state_dir is None:
        return None
    path = state_dir / LOG_NAME
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    lines = "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {correlation} {' '.join(sys.argv[1:])}\n{lines}\n")
    except OSError:
        return None
    return path
