"""How a spreadsheet splits a CSV file into cells, as Excel does with its locale's list separator.

Excel on English Windows splits at `,`; on Vietnamese (and most European) Windows at `;`, so a file we write
with `,` is read with `;` there. The rules modelled (RFC 4180 and Excel's leniencies):
- a line ends at CR, LF or CRLF outside quotes;
- a cell is quoted only if its first character is `"`; inside, `""` is one `"` and a lone `"` ends the quoting;
- what follows the closing quote up to the separator is kept (`"ab"cd` is `abcd`), either literally or with a
  `"` opening the quoting again: readers differ, so both are read (`reopen`);
- an unquoted cell is everything up to the separator or the line end, a `"` inside it included.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMULA = ("=", "+", "-", "@")
SPACE = " \t\r\n"


def runs_as_formula(value: str) -> bool:
    """A cell value a spreadsheet may run: a formula character first, after any blanks it may trim."""
    return value.lstrip(SPACE).startswith(FORMULA)


@dataclass
class _Reader:
    separator: str
    reopen: bool
    cells: list[str] = field(default_factory=list)
    value: list[str] = field(default_factory=list)
    fresh: bool = True  # nothing of this cell read yet
    was_quoted: bool = False  # this cell began with a quote
    quoted: bool = False

    def end_cell(self) -> None:
        self.cells.append("".join(self.value))
        self.value, self.fresh, self.was_quoted = [], True, False

    def step(self, text: str, index: int) -> int:
        """Read the character at `index`; returns the index of the next one."""
        char = text[index]
        if self.quoted:
            return self.in_quotes(text, index)
        if char == '"' and (self.fresh or (self.reopen and self.was_quoted)):
            self.quoted = self.was_quoted = True
        elif char == self.separator or char in "\r\n":
            self.end_cell()
            return index + 2 if text.startswith("\r\n", index) else index + 1
        else:
            self.value.append(char)
        self.fresh = False
        return index + 1

    def in_quotes(self, text: str, index: int) -> int:
        if text[index] != '"':
            self.value.append(text[index])
        elif text.startswith('""', index):
            self.value.append('"')
            return index + 2
        else:
            self.quoted = False
        return index + 1


def read_cells(data: bytes, separator: str, *, reopen: bool = False) -> list[str]:
    """Every cell value of a UTF-8 file (BOM dropped, as Excel does), line after line."""
    text = data.decode("utf-8-sig")
    reader = _Reader(separator, reopen)
    index = 0
    while index < len(text):
        index = reader.step(text, index)
    if not reader.fresh:
        reader.end_cell()
    return reader.cells


def formula_cells(data: bytes) -> list[tuple[str, bool, str]]:
    """(separator, reopen, value) of every cell some Excel would run, reading with `,` or with `;`."""
    return [(separator, reopen, value) for separator in ",;" for reopen in (False, True)
            for value in read_cells(data, separator, reopen=reopen) if runs_as_formula(value)]
