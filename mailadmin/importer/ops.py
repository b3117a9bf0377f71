"""Typed directory changes of a journaled plan: add, modify, move, delete; each knows its inverse and its effect.

A reorganisation is planned as a list of these (reorgplan.py) and carried out by engine.py: the
journal holds them as JSON lines, undo applies their inverses newest first, resume recognises the
ones already carried out by their effect on the directory. Values are text (no certificate or
password ever travels in one: a move keeps an entry's attributes, it does not rewrite them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mailadmin.directory.dit import parent_dn

ADD, MODIFY, MOVE, DELETE = "add", "modify", "move", "delete"
INVERSE = {ADD: DELETE, DELETE: ADD, MODIFY: MODIFY, MOVE: MOVE}
Values = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class Op:
    """One directory write: `dn` as it is when the write runs; `target` the new DN of a move.

    `before`/`after`: for a modify (or a move that also rewrites attributes, an import's: first the
    attributes, then the rename) the replaced attributes' values before and after; for a delete
    the whole entry (before), for an add the whole entry (after). `bulk`: may run pipelined and in
    transactions with its neighbours of the same kind (else alone, in order); a bulk move carries no
    attributes (a pipelined rename writes none).
    """

    index: int
    kind: str
    dn: str
    subject: str
    target: str = ""
    before: Values = field(default_factory=dict)
    after: Values = field(default_factory=dict)
    bulk: bool = False

    def inverse(self) -> Op:
        """The write that undoes this one."""
        swapped = replace(self, before=self.after, after=self.before)
        if self.kind == MOVE:
            return replace(swapped, dn=self.target, target=self.dn)
        return replace(swapped, kind=INVERSE[self.kind])

    @property
    def new_rdn(self) -> str:
        """A move's new first RDN."""
        return self.target[: len(self.target) - len(parent_dn(self.target))].rstrip(",").strip()

    @property
    def new_parent(self) -> str:
        """A move's new parent DN."""
        return parent_dn(self.target)

    def as_data(self) -> dict[str, Any]:
        """A JSON line of the journal."""
        return {"index": self.index, "kind": self.kind, "dn": self.dn, "subject": self.subject,
                "target": self.target, "before": self.before, "after": self.after, "bulk": self.bulk}

    @classmethod
    def of_data(cls, data: dict[str, Any]) -> Op:
        """The inverse of as_data."""
        return cls(data["index"], data["kind"], data["dn"], data["subject"], data.get("target", ""),
                   data.get("before") or {}, data.get("after") or {}, bool(data.get("bulk")))


def same_values(now: list[str], wanted: list[str]) -> bool:
    """Attribute values equal as sets (the order of values means nothing in LDAP), case kept."""
    return sorted(now) == sorted(wanted)
