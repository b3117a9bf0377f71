"""Initial passwords (generate_password): what the unit clerk hands out, drawn from real randomness.

The guarantees: the length asked for, letters, digits and one symbol from the copy-by-hand alphabet (no 0/O,
1/l/I), every class present, and no character favoured. Bias is checked with a chi-square over many draws and
a bound far out (about six standard deviations): a modulo-biased draw (`byte % 57` favours 28 characters by
25%) fails it by some 25 deviations, a fair one never does in practice.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterable

import pytest

from mailadmin.passwords import generate_password

LOOK_ALIKES = set("0O1lI")
SYMBOLS = set("-_.+!#")
DRAWS = 6000


def chi_square(counts: Counter[str], categories: Iterable[str]) -> tuple[float, int]:
    """Pearson's statistic against equal frequencies, and its degrees of freedom."""
    cells = list(categories)
    total = sum(counts[cell] for cell in cells)
    expected = total / len(cells)
    return sum((counts[cell] - expected) ** 2 / expected for cell in cells), len(cells) - 1


def assert_even(counts: Counter[str], categories: Iterable[str]) -> None:
    statistic, freedom = chi_square(counts, categories)
    bound = freedom + 6 * (2 * freedom) ** 0.5  # mean + 6 sd of the chi-square distribution
    assert statistic < bound, (statistic, bound, counts)


@pytest.fixture(scope="module")
def passwords() -> list[str]:
    return [generate_password() for _ in range(DRAWS)]


def test_every_password_has_the_promised_shape(passwords: list[str]) -> None:
    allowed = (set(string.ascii_letters + string.digits) - LOOK_ALIKES) | SYMBOLS
    for password in passwords:
        assert len(password) == 16 and set(password) <= allowed, password
        assert sum(ch in SYMBOLS for ch in password) == 1, password
        assert any(ch.isdigit() for ch in password) and any(ch.isupper() for ch in password) \
            and any(ch.islower() for ch in password), password
    assert len(set(passwords)) == DRAWS


@pytest.mark.parametrize("length", [4, 5, 12, 40, 200])
def test_other_lengths_keep_the_guarantees(length: int) -> None:
    for _ in range(200):
        password = generate_password(length)
        assert len(password) == length and sum(ch in SYMBOLS for ch in password) == 1
        assert any(ch.isdigit() for ch in password) and any(ch.isupper() for ch in password)


def test_no_character_is_favoured(passwords: list[str]) -> None:
    """Within each class (the every-class rule changes how often a class appears, not which member)."""
    counts = Counter("".join(passwords))
    for members in (string.digits, string.ascii_uppercase, string.ascii_lowercase, "".join(sorted(SYMBOLS))):
        assert_even(counts, sorted(set(members) - LOOK_ALIKES))


def test_the_symbol_is_anywhere(passwords: list[str]) -> None:
    places = Counter(str(next(i for i, ch in enumerate(p) if ch in SYMBOLS)) for p in passwords)
    assert_even(places, [str(i) for i in range(16)])
