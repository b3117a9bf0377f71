"""Import files -> raw rows: CSV (comma or semicolon, quoted, Excel's exports), Excel .xlsx and YAML.

Pure: bytes in, rows out. Every value is text (YAML scalars are not converted: a phone
number 0905… keeps its leading zero, `no` stays `no`), and every row keeps its line.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from openpyxl import load_workbook

from mailadmin.errors import InvalidInput
from mailadmin.excel_csv import restore
from mailadmin.i18n import t
from mailadmin.importer.columns import field_of, map_headers
from mailadmin.importer.decode import decode
from mailadmin.importer.yamlguard import GuardedLoader

FORMATS = ("csv", "yaml", "xlsx")
MAX_XLSX_UNPACKED = 200 * 10**6  # an .xlsx is a zip: its parts are bounded before openpyxl reads them
MAX_XLSX_COLUMNS = 100  # cells right of column CV are never built (the template has 8 columns)
EXCEL_ROWS = 1_048_576
_EMPTY_ROW: list[str] = []  # shared by every empty row of a sheet (read only)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One person as the file wrote it: field -> text, and where each field came from."""

    line: int
    values: dict[str, str]
    columns: dict[str, str] = field(default_factory=dict)  # field -> "3" (CSV column) or YAML key
    extra: str = ""  # a cell beyond the header row's columns, if any (an error)


@dataclass(frozen=True)
class ParsedFile:
    """The rows of a file, and the columns left out because they mean nothing to the import."""

    rows: list[RawRow]
    ignored_columns: tuple[str, ...] = ()


def parse(data: bytes, file_format: str, max_rows: int) -> list[RawRow]:
    """The rows of a CSV, Excel or YAML file; the whole file is refused when unreadable or too long."""
    return parse_file(data, file_format, max_rows).rows


def parse_file(data: bytes, file_format: str, max_rows: int) -> ParsedFile:
    """The rows of a file and its ignored columns; the whole file is refused when unreadable or too long."""
    ignored: list[str] = []
    if file_format == "xlsx":
        rows = parse_table(read_xlsx(data, max_rows), ignored)
    else:
        text = decode(data)
        rows = parse_csv(text, ignored) if file_format == "csv" else parse_yaml(text)
    result: list[RawRow] = []
    for row in rows:
        result.append(row)
        if len(result) > max_rows:
            raise InvalidInput(t("Tệp có hơn {n} dòng dữ liệu (giới hạn imports.max_rows); hãy chia nhỏ tệp",
                                 "the file has more than {n} data rows (imports.max_rows); split it", n=max_rows))
    return ParsedFile(result, tuple(ignored))


def guess_format(name: str, data: bytes) -> str:
    """yaml for .yaml/.yml, xlsx for Excel workbooks, else csv; for stdin, YAML if it starts like YAML."""
    lowered = name.lower()
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    if lowered.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):  # a zip: what Excel saves
        return "xlsx"
    if name not in ("", "-", "<stdin>"):
        return "csv"
    head = data.lstrip(b"\xef\xbb\xbf \r\n")[:20]
    return "yaml" if head.startswith((b"- ", b"---", b"people:", b"units:")) else "csv"


# -- CSV ---------------------------------------------------------------------------------------

def parse_csv(text: str, ignored: list[str] | None = None) -> Iterator[RawRow]:
    """Rows of a CSV text; the delimiter (, ; or tab) is taken from the header line."""
    lines = io.StringIO(text, newline="")
    first = lines.readline()
    offset = 1
    if first.strip().lower().startswith("sep="):  # Excel's "sep=;" hint line
        delimiter = first.strip()[4:5] or ","
        first = lines.readline()
        offset = 2
    else:
        delimiter = _delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    mapping = map_headers(header, ignored)
    reader = csv.reader(lines, delimiter=delimiter)
    columns = {name: str(index + 1) for index, name in mapping.items()}  # shared by every row
    start = offset + 1
    try:
        for cells in reader:
            line, start = start, offset + reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield _csv_row(line, cells, mapping, columns, len(header))
    except csv.Error as exc:
        raise InvalidInput(t("Dòng {line}: CSV hỏng ({e})", "line {line}: malformed CSV ({e})",
                             line=start, e=exc)) from None


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", ",", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _csv_row(line: int, cells: list[str], mapping: dict[int, str], columns: dict[str, str], width: int) -> RawRow:
    values = {name: restore(cells[index].strip()) if index < len(cells) else "" for index, name in mapping.items()}
    extra = next((str(i + 1) for i, cell in enumerate(cells[width:], start=width) if cell.strip()), "")
    return RawRow(line, values, columns, extra)


# -- Excel -------------------------------------------------------------------------------------

def read_xlsx(data: bytes, max_rows: int = EXCEL_ROWS) -> list[list[str]]:
    """The first sheet of an .xlsx workbook as text cells (numbers as Excel shows them, dates as dd/mm/yyyy).

    Reading stops one row past `max_rows` filled rows (parse_file then refuses the file).
    """
    _check_unpacked_size(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput(t("Tệp Excel không đọc được ({e}); hãy lưu lại dạng .xlsx hoặc CSV UTF-8",
                             "the Excel file cannot be read ({e}); save it again as .xlsx or CSV UTF-8",
                             e=type(exc).__name__)) from None
    try:
        return _sheet_rows(book.worksheets[0], max_rows)
    finally:
        book.close()


def _sheet_rows(sheet: Any, max_rows: int) -> list[list[str]]:
    """The sheet's rows, MAX_XLSX_COLUMNS wide at most; empty ones as [] (they only keep the line numbers).

    The sheet's own claim of its size is not believed: five kilobytes claiming A1:XFD1048576 made
    openpyxl pad every row to 16,384 cells and every missing row too (17 billion cells).
    """
    sheet.reset_dimensions()
    rows: list[list[str]] = []
    filled = 0
    for values in sheet.iter_rows(values_only=True, max_col=MAX_XLSX_COLUMNS + 1):
        if len(rows) >= EXCEL_ROWS:  # a row number Excel never writes: each missing row before it costs a step
            raise InvalidInput(t("Trang tính có dòng quá {n}, vượt giới hạn của Excel; tệp không do Excel tạo ra",
                                 "the sheet has rows past {n}, Excel's limit; the file was not made by Excel",
                                 n=EXCEL_ROWS))
        if values.count(None) == len(values):
            rows.append(_EMPTY_ROW)
            continue
        if not filled and values[MAX_XLSX_COLUMNS] is not None:
            raise _too_wide()
        rows.append([_cell_text(value) for value in values[:MAX_XLSX_COLUMNS]])
        filled += 1
        if filled > max_rows + 1:  # the header and one row too many: enough to refuse the file
            break
    return rows


def _too_wide() -> InvalidInput:
    return InvalidInput(t("Dòng tiêu đề của trang tính có hơn {n} cột; hãy xóa các cột thừa hoặc lưu dạng CSV UTF-8",
                          "the sheet's header row has more than {n} columns; delete the extra columns or save it "
                          "as CSV UTF-8", n=MAX_XLSX_COLUMNS))


def _check_unpacked_size(data: bytes) -> None:
    """Refuse a workbook that would unpack to more than MAX_XLSX_UNPACKED bytes (a zip bomb)."""
    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InvalidInput(t("Tệp không phải tệp Excel .xlsx hợp lệ",
                             "the file is not a valid Excel .xlsx file")) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise InvalidInput(t("Tệp Excel giải nén ra hơn {n} MB; hãy chia nhỏ tệp",
                             "the Excel file unpacks to more than {n} MB; split it", n=MAX_XLSX_UNPACKED // 10**6))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or HR id typed as a number
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def parse_table(table: list[list[str]], ignored: list[str] | None = None) -> Iterator[RawRow]:
    """Rows of a sheet read as text; the first non-empty row is the header (line numbers as Excel shows)."""
    start = next((i for i, cells in enumerate(table) if any(cell.strip() for cell in cells)), len(table))
    if start == len(table):
        return
    header = table[start]
    mapping = map_headers(header, ignored)
    columns = {name: _column_letter(index) for index, name in mapping.items()}
    for number, cells in enumerate(table[start + 1:], start=start + 2):
        if any(cell.strip() for cell in cells):
            yield _csv_row(number, cells, mapping, columns, len(header))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# -- YAML --------------------------------------------------------------------------------------

class _NoAliasLoader(GuardedLoader):
    """PyYAML's safe loader, composing nodes only, refusing aliases (no 'billion laughs') and deep nesting."""

    alias_refused = ("Dòng {line}: YAML có bí danh (*{name}); tệp nhập không được dùng bí danh",
                     "line {line}: YAML alias (*{name}) is not allowed in import files")
    too_deep = ("Dòng {line}: YAML lồng nhau quá {n} tầng; tệp nhập chỉ cần danh sách người "
                "(hoặc đơn vị: danh sách người)",
                "line {line}: YAML nested more than {n} levels deep; an import file needs only a "
                "list of people (or unit: list of people)")


def parse_yaml(text: str) -> Iterator[RawRow]:
    """Rows of a YAML text: a list of people, `people: [...]`, or `units: {CODE: [...]}` / `{CODE: [...]}`."""
    try:
        loader = _NoAliasLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidInput(t("Dòng {line}: YAML không hợp lệ ({e})", "line {line}: invalid YAML ({e})",
                             line=mark.line + 1 if mark else 1, e=getattr(exc, "problem", exc))) from None
    if root is None:
        return
    yield from _yaml_people(root, "")


def _yaml_people(node: yaml.Node, unit: str) -> Iterator[RawRow]:
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield _yaml_row(item, unit)
        return
    if not isinstance(node, yaml.MappingNode):
        raise _shape_error(node)
    for key, value in node.value:
        name = _scalar(key)
        if name in ("people", "units") and not unit:
            yield from _yaml_people(value, unit)
        else:
            yield from _yaml_people(value, name)


def _yaml_row(node: yaml.Node, unit: str) -> RawRow:
    if not isinstance(node, yaml.MappingNode):
        raise _shape_error(node)
    values: dict[str, str] = {"unit": unit} if unit else {}
    columns: dict[str, str] = {"unit": "unit"} if unit else {}
    for key, value in node.value:
        label = _scalar(key)
        name = field_of(label)
        if name is None:
            raise InvalidInput(t("Dòng {line}: khóa {key} không rõ nghĩa", "line {line}: unknown key {key}",
                                 line=key.start_mark.line + 1, key=label), label)
        values[name] = _text(value)
        columns[name] = label
    return RawRow(node.start_mark.line + 1, values, columns)


def _text(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return " ".join(_scalar(item) for item in node.value)
    return _scalar(node)


def _scalar(node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _shape_error(node)
    return "" if node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null") else str(node.value).strip()


def _shape_error(node: yaml.Node) -> InvalidInput:
    return InvalidInput(t(
        "Dòng {line}: cần một danh sách người (hoặc đơn vị: danh sách người)",
        "line {line}: expected a list of people (or unit: list of people)", line=node.start_mark.line + 1))
