"""Terminal output helpers: tables, JSON, one-time secrets."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def print_json(data: Any) -> None:
    """Machine-readable output: UTF-8 JSON, diacritics kept."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A table for people."""
    table = Table(*headers, show_edge=False, header_style="bold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(table)


def print_in_doubt(status: dict[str, Any]) -> None:
    """For a job stopped in doubt (errors.CommitInDoubt): the server its resume waits for."""
    if status.get("in_doubt"):
        click.echo(f"Chờ máy chủ / waiting for server {status['in_doubt']}: "
                   "chạy tiếp khi máy đó trả lời lại hoặc đã dừng hẳn / resume once it answers again or is stopped")


def print_secret(label: str, secret: str) -> None:
    """A one-time secret (initial password): shown once, never logged."""
    click.echo(f"{label}: {secret}")
