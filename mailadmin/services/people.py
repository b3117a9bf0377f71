"""Synthetic Vietnamese staff for the demo province: realistic, deterministic, never real people."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# Approximate shares of Vietnamese family names (Nguyễn ≈ 38 %).
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Huỳnh", 5.1), ("Hoàng", 2.5),
    ("Phan", 4.5), ("Võ", 3.9), ("Vũ", 1.5), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Đào", 0.8), ("Đoàn", 0.7), ("Trương", 0.9),
    ("Lương", 0.5), ("Mai", 0.5), ("Tô", 0.3), ("Châu", 0.4), ("Cao", 0.4), ("Lâm", 0.4),
    ("Tôn Nữ", 0.1), ("Kpă", 0.1), ("Y", 0.1),
)
MALE_MIDDLE = ("Văn", "Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Công", "Thanh", "Ngọc", "Xuân",
               "Tấn", "Thành", "Đình", "Trung")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Thị Thu", "Thị Minh", "Thị Kim", "Ngọc", "Thanh", "Thu",
                 "Thị Hồng", "Mỹ", "Bích", "Hoài", "Thùy", "Diễm")
MALE_GIVEN = ("An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đông", "Hải", "Hiếu", "Hoàng", "Hùng",
              "Hưng", "Huy", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lộc", "Minh", "Nam", "Nghĩa",
              "Nhân", "Phong", "Phúc", "Quang", "Quân", "Sơn", "Tài", "Tâm", "Thắng", "Thành",
              "Thiện", "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ")
FEMALE_GIVEN = ("Anh", "Ánh", "Châu", "Chi", "Diễm", "Dung", "Duyên", "Đào", "Giang", "Hà", "Hạnh",
                "Hằng", "Hiền", "Hoa", "Hồng", "Huệ", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai",
                "My", "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm",
                "Thảo", "Thu", "Thủy", "Trang", "Trâm", "Tuyết", "Uyên", "Vân", "Vy", "Yến")
TITLES = ("Chuyên viên", "Chuyên viên", "Chuyên viên", "Cán bộ", "Công chức", "Viên chức",
          "Chuyên viên chính", "Phó Trưởng phòng", "Trưởng phòng", "Kế toán", "Văn thư")


@dataclass(frozen=True)
class Person:
    """One synthetic official."""

    full_name: str
    title: str
    phone: str
    hr_id: str


def people(count: int, rng: random.Random, first_hr_number: int = 1) -> Iterator[Person]:
    """`count` synthetic officials; the same rng state gives the same people."""
    families = [name for name, _ in FAMILY_NAMES]
    weights = [weight for _, weight in FAMILY_NAMES]
    for number in range(first_hr_number, first_hr_number + count):
        female = rng.random() < 0.48
        middle = rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
        given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
        family = rng.choices(families, weights)[0]
        yield Person(
            full_name=f"{family} {middle} {given}", title=rng.choice(TITLES),
            phone=f"0257 3{rng.randrange(100000, 999999)}", hr_id=f"PY{number:06d}",
        )


def spread(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into whole parts proportional to `weights` (largest remainders): sums exactly."""
    whole = sum(weights)
    shares = [total * weight / whole for weight in weights]
    parts = [int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: shares[i] - parts[i], reverse=True)
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts
