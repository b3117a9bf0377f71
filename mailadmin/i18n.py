"""Bilingual (Vietnamese first, English) texts for messages raised below the presentation layer."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


@dataclass(frozen=True)
class Text:
    """A message in Vietnamese and English, formatted lazily with its parameters."""

    vi: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, language: str = DEFAULT_LANGUAGE) -> str:
        """The message in one language (unknown languages fall back to Vietnamese)."""
        template = self.en if language == "en" else self.vi
        return template.format(**self.params)

    def both(self) -> str:
        """Vietnamese, then English in brackets: for logs and terminals."""
        return f"{self.render('vi')} ({self.render('en')})"

    def __str__(self) -> str:
        return self.render(current_language())


def t(vi: str, en: str, /, **params: Any) -> Text:
    """Build a bilingual message; `{name}` placeholders are filled from params."""
    return Text(vi, en, params)


def current_language() -> str:
    """The language for terminal output: MAILADMIN_LANG, else Vietnamese."""
    language = os.environ.get("MAILADMIN_LANG", DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE
