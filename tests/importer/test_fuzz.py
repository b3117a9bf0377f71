"""Fuzzing the import's pure half and the address generator with Hypothesis (bounded and reproducible).

Whatever bytes arrive, only the project's own errors (MailadminError) may come out of
parse -> validate -> plan, and every address made from any name is plain ASCII and never reserved.
"""

from __future__ import annotations

import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailadmin.directory import dit
from mailadmin.directory.client import Entry
from mailadmin.directory.mapping import mailbox_attributes, mailbox_from_entry
from mailadmin.errors import MailadminError
from mailadmin.importer.columns import header_labels
from mailadmin.importer.parse import parse
from mailadmin.importer.plan import make_plan
from mailadmin.importer.validate import validate
from mailadmin.model import Mailbox, Tier
from mailadmin.names import AddressAllocator, PrefixIndex, local_part, split_name, strip_titles
from mailadmin.validation import clean_person_name

from .helpers import mailbox, snapshot

BOUNDED = settings(max_examples=200, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SNAPSHOT = snapshot(mailbox("annv", "Nguyễn Văn An", hr_id="NV1"), others={"vanthu"})
# Pieces HR files and attackers really send: delimiters, quotes, line breaks, BOMs, formulas,
# honorifics, brackets, mojibake, combining marks, bidi controls, YAML syntax.
PIECES = st.sampled_from([
    ",", ";", "\t", '"', "'", "\r\n", "\n", "\r", "\ufeff", "=", "+", "-", "@", "(", ")", "[", "]", "{", "}",
    "*", "\\", "/", " ", "Đ/c ", "TS. ", "PGS.TS.", "Ông ", "Anh ", "(Phó phòng)", "Nguyễn", "Văn", "An",
    "Nguyá»…n", "VÄƒn", "\u0301", "\u0323", "\u202e", "\x00", "\x85", "NV1", "555", "STTTT", "22015", "54",
    "annv", "postmaster", "admin@phuyen.gov.vn", "- ", ": ", "&a ", "*a", "!!python/object ", "---", "people:",
    "units:", "~", "null", "0905123456", "nghỉ", "suspended", "李", "H’Hen", "ʼ", "Ωμέγα", "ǅ", "ﬀ",
    "Y ", "H'", "H ", "Y-", " Niê", " Niê Kdăm", "Ksor ", "K'",
])
TEXT = st.lists(PIECES | st.text(max_size=6), max_size=12).map("".join)


def _pipeline(data: bytes, file_format: str) -> None:
    try:
        rows = parse(data, file_format, 200)
        make_plan(*validate(rows, SNAPSHOT), SNAPSHOT)
    except MailadminError:
        pass


def _csv(cells: list[list[str]], delimiter: str) -> bytes:
    lines = [delimiter.join(header_labels())] + [delimiter.join(row) for row in cells]
    return "\r\n".join(lines).encode("utf-8", errors="surrogatepass")


@BOUNDED
@given(st.lists(st.lists(TEXT, max_size=9), max_size=6), st.sampled_from([",", ";", "\t"]))
def test_csv_files_raise_only_our_errors(cells: list[list[str]], delimiter: str) -> None:
    _pipeline(_csv(cells, delimiter), "csv")


# Rows that get past the first checks (known units, HR ids), so names, addresses and the planner are reached.
LETTERS = st.text(st.characters(categories=["L", "M"]) | st.sampled_from(" -.'’"), min_size=1, max_size=16)
ROWS = st.lists(st.tuples(st.sampled_from(["NV1", "NV2", "NV3", "NV4", "", "NV5 "]), LETTERS | TEXT,
                          st.sampled_from(["555", "STTTT", "54/555/22015", "54 > STTTT", "999"]),
                          st.sampled_from(["", "Chuyên viên", "=SUM(A1)", "Trưởng\nphòng"]),
                          st.sampled_from(["", "0905 123 456", "+84", "abc"]),
                          st.sampled_from(["", "", "annv", "postmaster", "x@phuyen.gov.vn", "a..b", "x@other.vn"]),
                          st.sampled_from(["", "", "a b", "annv;postmaster", "x@phuyen.gov.vn"]),
                          st.sampled_from(["", "nghỉ", "suspended", "?"])).map(list), max_size=6)


@BOUNDED
@given(ROWS, st.sampled_from([",", ";"]))
def test_plausible_rows_each_get_one_outcome(rows: list[list[str]], delimiter: str) -> None:
    quoted = [['"' + cell.replace('"', '""') + '"' for cell in row] for row in rows]
    try:
        parsed = parse(_csv(quoted, delimiter), "csv", 200)
        people, errors = validate(parsed, SNAPSHOT)
    except MailadminError:
        return
    plan = make_plan(people, errors, SNAPSHOT)  # a row's problem is that row's error, never the file's
    assert sorted(action.line for action in plan.actions) == [row.line for row in parsed]


@BOUNDED
@given(st.binary(max_size=600), st.sampled_from(["csv", "yaml"]))
def test_arbitrary_bytes_raise_only_our_errors(data: bytes, file_format: str) -> None:
    _pipeline(data, file_format)


YAML_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT | st.sampled_from(
                               ["hr_id", "full_name", "unit", "mail", "aliases", "people", "units", "555"]),
                               inner, max_size=4), max_leaves=20)


@BOUNDED
@given(YAML_VALUES)
def test_yaml_documents_raise_only_our_errors(document: object) -> None:
    _pipeline(yaml.safe_dump(document, allow_unicode=True).encode("utf-8", errors="surrogatepass"), "yaml")


@BOUNDED
@given(st.lists(PIECES, max_size=30).map("".join))
def test_yaml_like_text_raises_only_our_errors(text: str) -> None:
    _pipeline(text.encode("utf-8", errors="surrogatepass"), "yaml")


ADDRESS = re.compile(r"[a-z0-9]+")
RESERVED = ("postmaster", "admin", "abuse", "annv")


@BOUNDED
@given(TEXT | st.text(max_size=40), st.sampled_from(["{given}{initials}", "{family}{middle}{given}",
                                                      "{given}.{family_initial}-{middle_initials}"]))
def test_every_address_made_from_a_name_is_plain_ascii_and_never_reserved(text: str, pattern: str) -> None:
    try:
        bare, _ = strip_titles(text)
        base = local_part(split_name(clean_person_name(bare)), pattern)
    except MailadminError:
        return
    allocator = AddressAllocator(PrefixIndex(["annv1"]), RESERVED)
    for _ in range(3):
        local = allocator.allocate(base)
        assert ADDRESS.fullmatch(local) and local not in RESERVED and len(local) <= 64


BASE_DN = "dc=phuyen,dc=gov,dc=vn"
# Words of Kinh, Ê Đê, M'nông and Jrai names (prefixes glued or not, compound family names), and any letters.
NAME_WORDS = st.sampled_from(["Y", "H", "H'", "H’Hen", "Y-Prơi", "hʼyim", "Moan", "Niê", "Kdăm", "Buôn", "Krông",
                              "Kđoh", "Êban", "Ksor", "Điểu", "K'Ré", "Nguyễn", "Văn", "Thị", "An", "Y'"]) \
    | st.text(st.characters(categories=["L"]), min_size=1, max_size=5)
NAMES = st.lists(NAME_WORDS, min_size=1, max_size=5).map(" ".join)


@BOUNDED
@given(NAMES | TEXT)
def test_a_split_name_survives_the_directory_and_a_second_split(text: str) -> None:
    """Whatever the order (Kinh, or family-last as 'Y Moan Niê'), cn/sn/givenName give the same name back."""
    try:
        name = split_name(clean_person_name(text))
    except MailadminError:
        return
    assert split_name(name.full) == name
    mailbox = Mailbox(uid="x", name=name, mail="x@phuyen.gov.vn", unit_code="STTTT", tier=Tier.PROVINCE)
    values = {key.lower(): [str(v).encode() for v in vs] for key, vs in mailbox_attributes(mailbox).items()}
    entry = Entry(f"uid=x,{dit.unit_dn(('54', 'STTTT'), BASE_DN)}", values)
    read = mailbox_from_entry(entry, BASE_DN).name  # 'Y Y Y' reads the same both ways: compare the parts
    assert (read.family, read.middle, read.given, read.full) == (name.family, name.middle, name.given, name.full)
