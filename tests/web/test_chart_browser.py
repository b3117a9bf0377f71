"""The dashboard's bar charts in Debian's chromium: every label is the whole unit name, readable and uncut,
on a desktop and on a phone (issue #12: "chart labels are cut")."""

from __future__ import annotations

import pytest

from tests.conftest import RunningDirectory
from tests.web.conftest import CHROMIUM, sign_in
from tests.web.page_tour import TOUR_PASSWORD, World, build_world

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")
LONGEST = "Văn phòng Đoàn Đại biểu Quốc hội và Hội đồng nhân dân tỉnh"  # config/units.yaml, 54 → agency
# Per chart label: its text, whether its box is cut (content wider than the box, or beyond the card), font size.
LABELS = """() => [...document.querySelectorAll('.chart .label')].map(label => {
  const box = label.getBoundingClientRect(), card = label.closest('.card').getBoundingClientRect();
  const bar = label.parentElement.querySelector('.bar').getBoundingClientRect();
  const overlaps = box.right > bar.left + 1 && box.bottom > bar.top + 1 && bar.bottom > box.top + 1;
  return [label.textContent.trim(), label.scrollWidth > label.clientWidth + 1 || box.right > card.right + 1
          || box.left < card.left - 1 || overlaps, parseFloat(getComputedStyle(label).fontSize)];
})"""


@pytest.fixture(scope="module")
def world(directory: RunningDirectory) -> World:
    return build_world(directory.services, "CHART")


@pytest.mark.parametrize("width", [1366, 390])
def test_every_chart_label_is_whole_and_uncut(page: object, base_url: str, world: World, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, base_url, world.people["superadmin"], TOUR_PASSWORD)
    page.goto(f"{base_url}/")
    labels = page.evaluate(LABELS)
    texts = [text for text, _, _ in labels]
    assert "Cấp tỉnh" in texts and LONGEST in texts and "Sở Lao động - Thương binh và Xã hội" in texts
    assert [text for text, cut, _ in labels if cut] == []
    assert min(size for _, _, size in labels) >= 12  # not scaled down to a phone's 9 px
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
