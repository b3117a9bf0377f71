"""The English catalogue: every message defined once (a duplicate makes `msgfmt --check` refuse the file)."""

from __future__ import annotations

import re
from collections import Counter

from mailadmin.resources import project_path

CATALOGUE = "mailadmin/translations/en/LC_MESSAGES/messages.po"
_STRING = r'(?:"(?:[^"\\]|\\.)*"\n)+'
_ENTRY = re.compile(rf'^(?:msgctxt ({_STRING}))?msgid ({_STRING})', re.M)


def _joined(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))


def msgids(text: str) -> list[tuple[str, str]]:
    """Every (context, msgid) of a .po text, continuation lines joined."""
    return [(_joined(context), _joined(message)) for context, message in _ENTRY.findall(text)]


def test_every_message_is_defined_once() -> None:
    ids = msgids(project_path(CATALOGUE).read_text(encoding="utf-8"))
    assert len(ids) > 100
    assert [message for message, count in Counter(ids).items() if count > 1] == []
