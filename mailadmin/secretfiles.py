"""Secrets kept in files of the state folder (mode 0600), never in the config."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path, nbytes: int = 24) -> str:
    """Read a secret, creating it with a random value the first time (no trailing newline,
    so `ldapsearch -y FILE` can use it as it is)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(nbytes))
    return path.read_text(encoding="utf-8").strip()
