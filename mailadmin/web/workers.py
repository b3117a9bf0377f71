"""Jobs the web app runs in the background (imports, reorganisations, bulk actions), one thread each, failures kept.

The journal holds a job's durable state; this only knows which jobs run in this process and why
one stopped, so that the progress page can say it and offer to resume.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

from mailadmin.errors import MailadminError
from mailadmin.i18n import Text, t

log = logging.getLogger(__name__)
_workers: dict[str, threading.Thread] = {}
_failures: dict[str, Text] = {}
_lock = threading.Lock()


def start(job_id: str, run: Callable[[], object], name: str) -> None:
    """Run `run` in a thread for this job, unless one already runs."""
    with _lock:
        if running(job_id):
            return
        for finished in [key for key, worker in _workers.items() if not worker.is_alive()]:
            del _workers[finished]
        _failures.pop(job_id, None)
        context = contextvars.copy_context()  # carries the acting person into the audit records
        worker = threading.Thread(target=context.run, args=(_guarded, job_id, run), daemon=True, name=name)
        _workers[job_id] = worker
        worker.start()


def running(job_id: str) -> bool:
    """Is this job's thread alive in this process?"""
    worker = _workers.get(job_id)
    return bool(worker and worker.is_alive())


def failure(job_id: str) -> Text | None:
    """Why the job's last run stopped, if it did."""
    return _failures.get(job_id)


def _guarded(job_id: str, run: Callable[[], object]) -> None:
    try:
        run()
    except MailadminError as error:
        _failures[job_id] = error.message
    except Exception:  # a worker must leave a message, never stop silently
        log.exception("job %s stopped", job_id)
        _failures[job_id] = t("Lỗi không mong đợi; hãy tiếp tục sau", "unexpected error; resume later")
