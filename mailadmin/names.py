"""Vietnamese names: normalisation, folding to ASCII, and collision-free address generation."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t
from mailadmin.model import PersonName

MAX_LOCAL_PART = 64
_SPACES = re.compile(r"\s+")
_NOT_ADDRESS_CHAR = re.compile(r"[^a-z0-9]")
_SLAPD_UNICODE = unicodedata.ucd_3_2_0  # what slapd 2.5's caseIgnoreMatch knows of Unicode (hr_id_key)
# đ/Đ have no Unicode decomposition: NFD leaves them whole, so map them first.
_NO_DECOMPOSITION = str.maketrans({"đ": "d", "Đ": "D"})
PATTERN_FIELDS = ("given", "family", "middle", "initials", "family_initial", "middle_initials")
# Forms of address and academic titles HR lists put before a name, case-insensitive, dots optional:
# Ông, Bà, Anh, Chị, Đ/c, Đồng chí; TS., ThS. / Th.S, PGS., GS., BS., KS., CN., and chains (PGS.TS.).
_DEGREE = r"(?:p?gs|t(?:h\.?)?s|bs|ks|cn)\.?"
_HONORIFIC = re.compile(rf"(?:ông|bà|anh|chị|đ/c|đồng chí|{_DEGREE}(?:\s*{_DEGREE})*)(?=[\s.]|$)\.?\s*", re.I)
_BRACKETED = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*$")
MIN_WORDS_AFTER_HONORIFIC = 2  # "Anh" is also a given name: Nguyễn Thị Anh, Anh Tuấn keep it


def normalize(text: str) -> str:
    """NFC, single spaces, no leading or trailing blanks (names typed as NFD become NFC)."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def hr_id_key(hr_id: str) -> str:
    """An HR id as slapd compares it (employeeNumber: caseIgnoreMatch, spaces collapsed)."""
    text = normalize(hr_id)
    if text.isascii():  # nearly every HR id: nothing to decompose, A-Z lower-cased as slapd does
        return text.lower()
    lowered = "".join(map(_slapd_lower, text))
    return normalize(_SLAPD_UNICODE.normalize("NFKD", lowered))


def _slapd_lower(ch: str) -> str:
    # slapd's tables (liblunicode, Unicode 3.2) lower-case letters only, one character for one: İ is i, ß stays
    # ß (casefold makes it ss), Ⓐ stays; a letter or mapping newer than its tables is left as it is.
    if _SLAPD_UNICODE.category(ch) not in ("Lu", "Lt"):
        return ch
    lowered = ch.lower()[0]
    return ch if _SLAPD_UNICODE.category(lowered) == "Cn" else lowered


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Đặng Thị Đào' -> 'dangthidao'."""
    decomposed = unicodedata.normalize("NFD", text.translate(_NO_DECOMPOSITION))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ADDRESS_CHAR.sub("", bare.lower())


class NameOrder(Protocol):
    """Which names are written family-last (settings `names`, or DEFAULT_ORDER)."""

    @property
    def family_last_prefixes(self) -> tuple[str, ...]:
        """Gender prefixes (tên đệm) that open a family-last name: Y, H."""

    @property
    def family_last_compounds(self) -> tuple[str, ...]:
        """Family names of two or more words that can close such a name: Niê Kdăm."""


@dataclass(frozen=True)
class _Order:
    family_last_prefixes: tuple[str, ...]
    family_last_compounds: tuple[str, ...]


# Ê Đê and M'nông names (docs/import.md): "Y" (men) or "H" / "H'" (women), the personal name, the family
# name last: Y Moan Niê, H'Hen Niê, Y Ngông Niê Kdăm. Jrai and Kinh names keep the family name first.
DEFAULT_ORDER: NameOrder = _Order(("Y", "H"), ("Niê Kdăm", "Buôn Krông", "Buôn Yă"))
_APOSTROPHES = str.maketrans(dict.fromkeys("’ʼ‘`´", "'"))
_GLUE = "'-"  # what joins a prefix to the personal name: H'Hen, H’Hen, Y-Prơi


def split_name(full_name: str, order: NameOrder = DEFAULT_ORDER) -> PersonName:
    """Split a name: Vietnamese order (family first, given last, the rest middle), or family-last.

    A name opening with a prefix of `order` ('Y Moan Niê', 'H'Hen Niê') keeps the prefix as its middle
    name (it is the tên đệm), the words after it as the given name and the family name last.
    """
    words = normalize(full_name).split(" ")
    if words == [""]:
        raise InvalidInput(t("Họ tên không được để trống", "the full name must not be empty"))
    if len(words) == 1:
        return PersonName(family="", middle="", given=words[0])
    family_last = _family_last(words, order)
    if family_last is not None:
        return family_last
    return PersonName(family=words[0], middle=" ".join(words[1:-1]), given=words[-1])


def _family_last(words: list[str], order: NameOrder) -> PersonName | None:
    """The family-last reading of a name that opens with a prefix, if a personal name follows it."""
    prefix = _prefix_of(words[0], order.family_last_prefixes)
    rest = [word for word in (words[0][len(prefix):], *words[1:]) if word]
    size = _family_size(rest, order.family_last_compounds)
    if not prefix or len(rest) <= size:
        return None  # 'Y Moan': nothing left for a personal name, read as usual
    return PersonName(family=" ".join(rest[-size:]), middle=prefix, given=" ".join(rest[:-size]),
                      family_last=True)


def _prefix_of(word: str, prefixes: Sequence[str]) -> str:
    """The prefix `word` is or opens with, glue included ('H'' of 'H'Hen', 'Y-' of 'Y-Prơi'), or ''."""
    plain = word.translate(_APOSTROPHES).casefold()
    for prefix in filter(None, (p.translate(_APOSTROPHES).casefold() for p in prefixes)):
        if plain == prefix:
            return word
        if prefix[-1] in _GLUE and plain.startswith(prefix):
            return word[:len(prefix)]
        if plain.startswith(prefix) and plain[len(prefix):][:1] in tuple(_GLUE):
            return word[:len(prefix) + 1]
    return ""


def _family_size(words: list[str], compounds: Sequence[str]) -> int:
    """How many of the last words make the family name: 2 for '… Niê Kdăm', else 1."""
    tail = [word.casefold() for word in words]
    for compound in compounds:
        parts = normalize(compound).casefold().split(" ")
        if len(parts) > 1 and tail[-len(parts):] == parts:
            return len(parts)
    return 1


def strip_titles(full_name: str) -> tuple[str, tuple[str, ...]]:
    """The name without leading honorifics and trailing bracketed notes, and what was removed.

    'Đ/c TS. Nguyễn Văn An (Phó phòng)' -> ('Nguyễn Văn An', ('Đ/c', 'TS.', '(Phó phòng)')). A leading
    word is removed only while at least MIN_WORDS_AFTER_HONORIFIC words of the name remain after it.
    """
    name, notes = _strip_notes(normalize(full_name))
    name, titles = _strip_honorifics(name)
    return name, titles + notes


def _strip_notes(name: str) -> tuple[str, tuple[str, ...]]:
    notes: list[str] = []
    while (note := _BRACKETED.search(name)) and note.start() > 0:
        notes.insert(0, note.group().strip())
        name = name[: note.start()]
    return name, tuple(notes)


def _strip_honorifics(name: str) -> tuple[str, tuple[str, ...]]:
    titles: list[str] = []
    while (title := _HONORIFIC.match(name)) and len(name[title.end():].split()) >= MIN_WORDS_AFTER_HONORIFIC:
        titles.append(title.group().strip())
        name = name[title.end():]
    return name, tuple(titles)


def check_pattern(pattern: str) -> None:
    """Refuse an address pattern naming an unknown field."""
    for name in re.findall(r"{([^{}]*)}", pattern):
        if name not in PATTERN_FIELDS:
            raise InvalidInput(
                t("Mẫu địa chỉ {pattern} có trường lạ {{{name}}}; dùng: {known}",
                  "address pattern {pattern} has an unknown field {{{name}}}; use: {known}",
                  pattern=pattern, name=name, known=", ".join(PATTERN_FIELDS))
            )


def local_part(name: PersonName, pattern: str = "{given}{initials}") -> str:
    """The address base for a name: 'Nguyễn Văn An' -> 'annv' with the default pattern."""
    check_pattern(pattern)
    family_initial = fold(name.family)[:1]
    middle_initials = "".join(fold(word)[:1] for word in name.middle.split())
    base = pattern.format(
        given=fold(name.given), family=fold(name.family), middle=fold(name.middle),
        initials=family_initial + middle_initials,
        family_initial=family_initial, middle_initials=middle_initials,
    )
    base = _NOT_ADDRESS_CHAR.sub("", base)[: MAX_LOCAL_PART - 4]
    if not base:
        raise InvalidInput(
            t("Không tạo được địa chỉ từ tên {name}", "cannot make an address from the name {name}",
              name=name.full)
        )
    return base


TakenLookup = Callable[[str], Iterable[str]]


class PrefixIndex:
    """Taken local parts held in memory, answering 'which start with X' by binary search."""

    def __init__(self, taken: Iterable[str]) -> None:
        self._sorted = sorted(set(taken))

    def __call__(self, start: str) -> list[str]:
        first = bisect.bisect_left(self._sorted, start)
        last = bisect.bisect_left(self._sorted, start + "\U0010ffff")
        return self._sorted[first:last]


# Local parts starting with this belong to the unit lists (ds-<unit code>, ListService.create_unit_list):
# a mailbox or custom list holding ds-558 would take unit 558's mail and block its list.
UNIT_LIST_PREFIX = "ds-"


def is_reserved(local: str, reserved: Iterable[str]) -> bool:
    """True for a configured reserved name or a unit-list address, which nobody may claim by hand."""
    return local in reserved or local.startswith(UNIT_LIST_PREFIX)


@dataclass(frozen=True)
class Refusal:
    """Why a local part cannot be given: it is reserved, or `holder` holds it ('': an entry not named)."""

    reserved: bool = False
    holder: str = ""


class AddressAllocator:
    """Hands out local parts: base, base1, base2… never one that is reserved or taken.

    `taken_with_prefix(base)` answers which local parts starting with `base` are already
    used (by the directory); the allocator also remembers what it handed out itself,
    so a batch never gets the same address twice. The result depends only on the
    directory's content and the order of requests: the same input gives the same addresses.
    Built from a snapshot of who holds what (`of_holders`), it also knows an entry's own
    local parts are no clash for that entry (a reorganisation giving a mailbox its uid in a new domain).
    """

    def __init__(self, taken_with_prefix: TakenLookup, reserved: Iterable[str] = (),
                 holders: Mapping[str, Collection[str]] | None = None) -> None:
        self._lookup = taken_with_prefix
        self._reserved = {fold(word) or word for word in reserved} | set(reserved)
        self._holders = holders
        self._known: dict[str, set[str]] = {}
        self._given: dict[str, str] = {}  # local part -> who it was handed to

    @classmethod
    def of_holders(cls, holders: Mapping[str, Collection[str]], reserved: Iterable[str] = ()) -> AddressAllocator:
        """An allocator over a snapshot: local part -> the entries holding it (held_local_parts)."""
        return cls(PrefixIndex(holders), reserved, holders)

    def allocate(self, base: str) -> str:
        """The first free local part among base, base1, base2…"""
        taken = self._taken(base)
        candidate, number = base, 0
        while candidate in taken or candidate in self._given or candidate in self._reserved:
            number += 1
            candidate = f"{base}{number}"
        self._given[candidate] = ""
        return candidate

    def claim(self, local: str) -> bool:
        """Reserve an exact local part asked for by the caller; False when it is not free."""
        return self.refusal(local) is None

    def refusal(self, local: str, holder: str = "", *, unit_list: bool = False) -> Refusal | None:
        """Reserve an exact local part for `holder` ('': a new entry), or say why not: reserved (a unit
        list may take a ds- one), handed to another in this batch, or held by another entry. The one rule
        of every address given by hand: creation, aliases, lists, reorganisations."""
        if local in self._reserved or (not unit_list and is_reserved(local, self._reserved)):
            return Refusal(reserved=True)
        if local in self._given and (not holder or self._given[local] != holder):
            return Refusal(holder=self._given[local])
        holders = self._other_holders(local, holder)
        if holders:
            return Refusal(holder=min(holders))
        self._given[local] = holder
        return None

    def _other_holders(self, local: str, holder: str) -> set[str]:
        if self._holders is None:
            return {""} if local in self._taken(local) else set()
        return set(self._holders.get(local, ())) - {holder}

    def _taken(self, base: str) -> set[str]:
        if base not in self._known:
            self._known[base] = set(self._lookup(base))
        return self._known[base]


def held_local_parts(uids: Iterable[str], addresses: Iterable[str], domain: str) -> set[str]:
    """The local parts an entry holds in `domain`: each uid (a uid holds its local part in every domain)
    and each of its addresses in that domain, lower-case."""
    suffix = "@" + domain.lower()
    held = {uid.lower() for uid in uids}
    held.update(address.lower().removesuffix(suffix) for address in addresses if address.lower().endswith(suffix))
    return held


def search_key(text: str) -> str:
    """Accent-free lower-case words for searching: 'Đặng Thị Đào' -> 'dang thi dao'."""
    return " ".join(filter(None, (fold(word) for word in normalize(text).split(" "))))


# Vietnamese alphabetical order: ă, â, đ, ê, ô, ơ, ư are letters of their own; tones only break ties.
_LETTERS = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANKS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # ASCII order = rank order
_MODIFIERS = {"\u0306": "\u0306", "\u0302": "\u0302", "\u031b": "\u031b"}  # breve, circumflex, horn
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}  # huyền hỏi ngã sắc nặng


def sort_key(name: PersonName) -> str:
    """An ASCII key that sorts names the Vietnamese way: given name, then family, then middle names.

    Within each name, letters compare first (a < ă < â < b … d < đ …) and tones only when the
    letters are equal (none < huyền < hỏi < ngã < sắc < nặng): An < Anh < Ánh < Ân < Dũng < Đức.
    """
    parts = []
    for word in (name.given, name.family, name.middle):
        pairs = _letters_and_tones(word)
        letters = "".join(_rank(letter) for letter, _ in pairs)
        tones = "".join(tone for _, tone in pairs)
        parts.append(f"{letters}!{tones}!")  # "!" sorts below every rank: An < Anh; a word's tones break its ties
    return "".join(parts)


def _rank(letter: str) -> str:
    if letter in _LETTERS:
        return _RANKS[10 + _LETTERS.index(letter)]
    return _RANKS[int(letter)] if letter.isdigit() else ""


def _letters_and_tones(word: str) -> list[tuple[str, str]]:
    """Each letter of a word without its tone (ă, ê… kept), with the tone as a digit."""
    result: list[tuple[str, str]] = []
    for char in normalize(word).lower():
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        letter = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in _MODIFIERS))
        tone = next((_TONES[m] for m in marks if m in _TONES), "0")
        result.append((letter, tone))
    return result
