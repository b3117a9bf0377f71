"""Directory operations counted by outcome, for the web admin's /metrics (no dependency on a metrics library)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from mailadmin.errors import DirectoryUnavailable, MailadminError

F = TypeVar("F", bound=Callable[..., Any])
OUTCOMES = ("ok", "error", "unreachable")


class OperationCounts:
    """How many operations succeeded, were refused by the server, or found no server."""

    def __init__(self) -> None:
        self._counts = dict.fromkeys(OUTCOMES, 0)
        self._lock = threading.Lock()

    def add(self, outcome: str) -> None:
        """Count one operation."""
        with self._lock:
            self._counts[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        """The counts so far, by outcome."""
        with self._lock:
            return dict(self._counts)

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count the operation run inside the block by how it ended."""
        try:
            yield
        except DirectoryUnavailable:
            self.add("unreachable")
            raise
        except MailadminError:
            self.add("error")
            raise
        self.add("ok")


def counted(method: F) -> F:
    """Count every call of a DirectoryClient method in its `operations`."""
    @wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.operations.counting():
            return method(self, *args, **kwargs)
    return wrapper  # type: ignore[return-value]
