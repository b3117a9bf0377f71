"""Every page on a phone (390 × 844) in Debian's chromium: no horizontal overflow, a header that leaves room."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailadmin import create_app
from tests.conftest import RunningDirectory
from tests.web.conftest import CHROMIUM, sign_in
from tests.web.page_tour import TOUR_PASSWORD, Stop, World, build_world, stops

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian package chromium not installed")
PHONE = {"width": 390, "height": 844}
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
HEADER_SHARE = "document.querySelector('header').getBoundingClientRect().height / window.innerHeight"
OWNER_PAGES = {"home.me", "auth.change_password"}


@pytest.fixture(scope="module")
def world(directory: RunningDirectory) -> World:
    """The tour's people, unit, certificate, list and import job."""
    return build_world(directory.services, "LAYOUT")


@pytest.fixture(scope="module")
def tour(directory: RunningDirectory, world: World) -> Iterator[list[Stop]]:
    """Every GET page of the app, in the world."""
    app = create_app(settings=directory.settings)
    yield stops(app, world)
    app.extensions["mailadmin"].close()


def overflowing(page: object, base_url: str, paths: list[str]) -> dict[str, int]:
    """Pages wider than the screen, with the number of pixels too many."""
    found = {}
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        assert response.status == 200, (path, response.status)
        extra = page.evaluate(OVERFLOW)
        if extra > 0:
            found[path] = extra
    return found


def test_no_page_is_wider_than_a_phone_for_the_super_admin(page: object, base_url: str,
                                                           world: World, tour: list[Stop]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, base_url, world.people["superadmin"], TOUR_PASSWORD)
    paths = [stop.path for stop in tour if stop.endpoint != "auth.login"]
    assert overflowing(page, base_url, paths) == {}


def test_the_owner_pages_and_the_login_fit_a_phone(page: object, base_url: str, world: World,
                                                   tour: list[Stop]) -> None:
    page.set_viewport_size(PHONE)
    assert overflowing(page, base_url, ["/login"]) == {}
    sign_in(page, base_url, world.people["owner"], TOUR_PASSWORD)
    paths = [stop.path for stop in tour if stop.endpoint in OWNER_PAGES]
    assert len(paths) == len(OWNER_PAGES) and overflowing(page, base_url, paths) == {}


def test_the_header_leaves_most_of_a_phone_screen_to_the_page(page: object, base_url: str,
                                                              world: World) -> None:
    """At 390 px the header took half the screen (issue #12)."""
    page.set_viewport_size(PHONE)
    sign_in(page, base_url, world.people["superadmin"], TOUR_PASSWORD)
    page.goto(f"{base_url}/mailboxes")
    assert page.evaluate(HEADER_SHARE) <= 0.25
    assert page.locator("#nav-mailboxes").is_visible() or page.locator("header details summary").is_visible()


def test_the_one_time_token_and_password_boxes_fit_a_phone(page: object, base_url: str,
                                                           world: World) -> None:
    """The API token box ran off the screen (issue #12); the one-time password box is the same kind."""
    page.set_viewport_size(PHONE)
    sign_in(page, base_url, world.people["superadmin"], TOUR_PASSWORD)
    page.goto(f"{base_url}/me")
    page.click("#api-token")
    assert page.locator("#token").inner_text() and page.evaluate(OVERFLOW) <= 0
    page.goto(f"{base_url}/mailboxes/{world.staff[5]}")
    page.click("#reset-password")
    assert page.locator("#one-time-password").inner_text() and page.evaluate(OVERFLOW) <= 0
