"""Vietnamese names to addresses: folding, patterns, collisions, reserved names."""

from __future__ import annotations

import unicodedata

import pytest

from mailadmin.errors import InvalidInput
from mailadmin.model import PersonName
from mailadmin.names import (
    DEFAULT_ORDER,
    AddressAllocator,
    PrefixIndex,
    fold,
    local_part,
    normalize,
    search_key,
    sort_key,
    split_name,
    strip_titles,
)
from mailadmin.settings import Names, load_settings
from mailadmin.validation import clean_person_name


@pytest.mark.parametrize(("full_name", "expected"), [
    ("Nguyễn Văn An", "annv"),
    ("Đặng Thị Đào", "daodt"),
    ("Trần Thị Minh Khai", "khaittm"),
    ("Huỳnh Ngọc Ánh", "anhhn"),
    ("Phạm Hùng", "hungp"),
    ("Ksor Y Đức", "ducky"),
])
def test_default_pattern_is_given_name_plus_initials(full_name: str, expected: str) -> None:
    assert local_part(split_name(full_name)) == expected


# Shapes from official lists of Đắk Lắk and the Central Highlands (docs/import.md): Ê Đê and M'nông names open
# with the prefix Y (men) or H / H' (women) and end with the family name; Jrai and M'nông names such as
# Ksor Phước Hà or Điểu K'Ré put the family name first, as Kinh names do.
@pytest.mark.parametrize(("full_name", "family", "middle", "given", "address"), [
    ("Y Moan Niê", "Niê", "Y", "Moan", "moanny"),
    ("H'Hen Niê", "Niê", "H'", "Hen", "hennh"),
    ("H’Hen Niê", "Niê", "H’", "Hen", "hennh"),
    ("Y Ngông Niê Kdăm", "Niê Kdăm", "Y", "Ngông", "ngongny"),
    ("H'Yim Kđoh", "Kđoh", "H'", "Yim", "yimkh"),
    ("H Yim Kđoh", "Kđoh", "H", "Yim", "yimkh"),
    ("Y-Prơi Êban", "Êban", "Y-", "Prơi", "proiey"),
    ("H'Ma Ri Êban", "Êban", "H'", "Ma Ri", "marieh"),
    ("Ksor Phước Hà", "Ksor", "Phước", "Hà", "hakp"),
    ("Điểu K'Ré", "Điểu", "", "K'Ré", "kred"),
    ("Ksor Y Đức", "Ksor", "Y", "Đức", "ducky"),
    ("Y Moan", "Y", "", "Moan", "moany"),
    ("Hoàng Văn Hà", "Hoàng", "Văn", "Hà", "hahv"),
])
def test_names_of_the_central_highlands(full_name: str, family: str, middle: str, given: str, address: str) -> None:
    name = split_name(full_name)
    assert (name.family, name.middle, name.given) == (family, middle, given)
    assert name.full == full_name and local_part(name) == address


def test_a_spaced_prefix_is_written_glued() -> None:
    name = split_name("H' Mai  Niê")
    assert name == PersonName("Niê", "H'", "Mai", family_last=True) and name.full == "H'Mai Niê"


def test_the_family_last_rule_is_configurable() -> None:
    assert local_part(split_name("Y Moan Niê", Names((), ()))) == "nieym"  # every name in Kinh order
    assert split_name("Y Ngông Niê Kdăm", Names(("Y",), ())).family == "Kdăm"
    assert split_name("Ama Hen Niê", Names(("Ama",), ())).given == "Hen"


def test_the_shipped_settings_are_the_documented_defaults() -> None:
    names = load_settings({}).names
    assert (names.family_last_prefixes, names.family_last_compounds) == (
        DEFAULT_ORDER.family_last_prefixes, DEFAULT_ORDER.family_last_compounds)


def test_d_with_stroke_has_no_decomposition_and_is_mapped_explicitly() -> None:
    assert unicodedata.normalize("NFD", "đ") == "đ"  # why fold() needs its own table
    assert fold("Đông Đức đường") == "dongducduong"


def test_decomposed_input_is_normalised_first() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
    assert nfd != "Nguyễn Thị Hương"
    assert normalize(nfd) == "Nguyễn Thị Hương"
    assert local_part(split_name(nfd)) == "huongnt"


def test_configurable_patterns() -> None:
    name = split_name("Nguyễn Văn An")
    assert local_part(name, "{family}{middle}{given}") == "nguyenvanan"
    assert local_part(name, "{given}.{family}") == "annguyen"
    with pytest.raises(InvalidInput, match="unknown field"):
        local_part(name, "{surname}")


def test_names_that_fold_to_nothing_are_refused() -> None:
    with pytest.raises(InvalidInput):
        local_part(split_name("李 王"))
    with pytest.raises(InvalidInput):
        split_name("   ")


def test_split_name_keeps_vietnamese_order_and_single_spaces() -> None:
    name = split_name("  Tôn  Nữ Thị   Ngọc Hà ")
    assert (name.family, name.middle, name.given) == ("Tôn", "Nữ Thị Ngọc", "Hà")
    assert name.full == "Tôn Nữ Thị Ngọc Hà"


def test_search_key_keeps_word_boundaries() -> None:
    assert search_key("Đặng  Thị Đào") == "dang thi dao"


def test_collisions_within_a_batch_get_deterministic_suffixes() -> None:
    allocator = AddressAllocator(PrefixIndex([]), reserved=())
    bases = [local_part(split_name(n)) for n in ("Nguyễn Văn Hùng", "Nguyễn Văn Hưng", "Ngô Văn Hùng")]
    assert bases == ["hungnv", "hungnv", "hungnv"]
    assert [allocator.allocate(base) for base in bases] == ["hungnv", "hungnv1", "hungnv2"]


def test_collisions_against_existing_addresses_fill_the_lowest_free_number() -> None:
    allocator = AddressAllocator(PrefixIndex(["hungnv", "hungnv2", "hungnvx"]), reserved=())
    assert allocator.allocate("hungnv") == "hungnv1"
    assert allocator.allocate("hungnv") == "hungnv3"


def test_reserved_names_are_never_handed_out() -> None:
    allocator = AddressAllocator(PrefixIndex([]), reserved=("admin", "postmaster"))
    assert allocator.allocate("admin") == "admin1"
    assert not allocator.claim("postmaster")
    assert allocator.claim("annv")
    assert not allocator.claim("annv")  # the batch already has it


def test_prefix_index_answers_only_matching_prefixes() -> None:
    index = PrefixIndex(["an", "annv", "annv1", "anh", "b"])
    assert index("annv") == ["annv", "annv1"]
    assert index("zz") == []


def test_sort_key_follows_the_vietnamese_alphabet() -> None:
    names = ["Hồ Thị Yến", "Võ Văn Đức", "Lê Văn Dũng", "Phạm Thị Ân", "Lê Thị Ánh", "Trần Thị Anh", "Lê Văn An",
             "Nguyễn Văn An"]
    ordered = sorted(names, key=lambda name: sort_key(split_name(name)))
    assert ordered == ["Lê Văn An", "Nguyễn Văn An", "Trần Thị Anh", "Lê Thị Ánh", "Phạm Thị Ân", "Lê Văn Dũng",
                       "Võ Văn Đức", "Hồ Thị Yến"]
    assert sort_key(split_name("Lê Văn An")).isascii()


@pytest.mark.parametrize(("written", "name", "removed"), [
    ("Đ/c Nguyễn Văn Bình", "Nguyễn Văn Bình", ("Đ/c",)),
    ("ĐỒNG CHÍ  Lê Văn Ba", "Lê Văn Ba", ("ĐỒNG CHÍ",)),
    ("TS.Nguyễn Văn An", "Nguyễn Văn An", ("TS.",)),
    ("Đ/c TS. Nguyễn Văn An (Phó phòng) [Đảng ủy]", "Nguyễn Văn An", ("Đ/c", "TS.", "(Phó phòng)", "[Đảng ủy]")),
    (unicodedata.normalize("NFD", "Bà Trần Thị Hà"), "Trần Thị Hà", ("Bà",)),
    ("Nguyễn Thị Anh", "Nguyễn Thị Anh", ()),
    ("Anh Tuấn", "Anh Tuấn", ()),
    ("Tsân Văn A", "Tsân Văn A", ()),
    ("(Phó phòng)", "(Phó phòng)", ()),
])
def test_strip_titles(written: str, name: str, removed: tuple[str, ...]) -> None:
    assert strip_titles(written) == (name, removed)


@pytest.mark.parametrize("name", ["Y Moan Niê", "H’Hen Niê", "Hʼ Mai", "Nguyễn Thị Minh-Khai", "J. R. Smith",
                                  unicodedata.normalize("NFD", "Đặng Thị Đào"), "Ωμέγα Αλφα"])
def test_person_names_accepted(name: str) -> None:
    assert clean_person_name(name) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(("name", "shown"), [("*)(objectClass=*", "«*» (U+002A)"), ("Lê 2", "«2» (U+0032)"),
                                             ("a=b", "«=» (U+003D)"), ("An\u00a0<b>", "«<» (U+003C)")])
def test_person_names_refused_with_the_character(name: str, shown: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_person_name(name)
    assert shown in refused.value.message.render("en") and shown in refused.value.message.render("vi")
