"""Durable Maildir delivery: written to tmp/, fsynced, renamed into new/ before we say 250."""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path

from mailadmin.durable import fsync_folder

_counter = itertools.count()
SUBFOLDERS = ("tmp", "new", "cur")


def ensure_maildir(root: Path) -> Path:
    """Create <root>/{tmp,new,cur} (mode 0700) if missing."""
    for sub in SUBFOLDERS:
        (root / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def deliver(root: Path, message: bytes) -> Path:
    """Store one message in the Maildir at `root`; returns its path in new/."""
    ensure_maildir(root)
    name = f"{time.time_ns()}.P{os.getpid()}Q{next(_counter)}.{socket.gethostname().replace('/', '_')}"
    temporary = root / "tmp" / name
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message)
            handle.flush()
            os.fsync(handle.fileno())
        final = root / "new" / f"{name},S={len(message)}"
        os.rename(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_folder(root / "new")
    return final
