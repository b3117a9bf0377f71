"""Files that survive a crash: written whole, fsynced, renamed into place, their folder fsynced."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


@contextmanager
def private_file(path: Path) -> Iterator[TextIO]:
    """A new file only its owner can read (0600), fsynced when closed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def replace_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically: readers see the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with private_file(temporary) as out:
        out.write(text)
    os.replace(temporary, path)
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make the folder's entries (a rename, a new file) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
