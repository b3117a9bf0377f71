"""PyYAML's safe loader made safe for files from outside: no aliases, bounded nesting.

The safe loader builds no Python object, but it still expands aliases (a 500-byte "billion laughs"
file becomes gigabytes) and composes nodes recursively (1,200 "[" end in a RecursionError). Both
the import reader (parse.py) and the plan reader (reorgfile.py) are based on GuardedLoader.
"""

from __future__ import annotations

from typing import ClassVar

import yaml

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t

# The deepest import file is units: {CODE: [{key: [alias, ...]}]}, the deepest plan
# units: [{takes_staff: {CODE: [id, ...]}}]: both need 5 levels.
MAX_YAML_DEPTH = 16


class GuardedLoader(yaml.SafeLoader):
    """Safe loader refusing aliases and nesting deeper than MAX_YAML_DEPTH; subclasses word the refusals."""

    depth = 0
    # (Vietnamese, English) with {line} and {name} (the alias) or {n} (the bound)
    alias_refused: ClassVar[tuple[str, str]] = (
        "Dòng {line}: YAML có bí danh (*{name}); tệp không được dùng bí danh",
        "line {line}: YAML alias (*{name}) is not allowed")
    too_deep: ClassVar[tuple[str, str]] = (
        "Dòng {line}: YAML lồng nhau quá {n} tầng", "line {line}: YAML nested more than {n} levels deep")

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """The node PyYAML composes, unless it is an alias or one level too deep (InvalidInput)."""
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent):
            raise InvalidInput(t(*self.alias_refused, line=line, name=event.anchor))
        if self.depth >= MAX_YAML_DEPTH:
            raise InvalidInput(t(*self.too_deep, line=line, n=MAX_YAML_DEPTH))
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1
