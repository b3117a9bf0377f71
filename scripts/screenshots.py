"""Screenshots of every GET page of the web admin (tests/web/page_tour.py) in Debian's chromium.

A private slapd in a temporary state folder, the tour's world (people with each role, a few dozen mailboxes,
a bound certificate, an import job, an audit trail), the app on a loopback port; then, per width and role,
every page the role can open, as var/screenshots/<width>/<page>--<role>.png. Prints the pages wider than
the screen (horizontal overflow) and exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from mailadmin import create_app  # noqa: E402
from tests.conftest import RunningDirectory, free_port, make_settings  # noqa: E402
from tests.web.conftest import ARGS, CHROMIUM  # noqa: E402
from tests.web.page_tour import ROLES, TOUR_PASSWORD, Stop, World, build_world, stops  # noqa: E402

OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


@contextmanager
def served_world(state: Path) -> Iterator[tuple[str, World, list[Stop]]]:
    """A private slapd with the tour's world, and the app serving it on a free loopback port."""
    running = RunningDirectory(make_settings(state))
    try:
        world = build_world(running.services)
        app = create_app(settings=running.settings)
        server = make_server("127.0.0.1", free_port(), app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", world, stops(app, world)
        finally:
            server.shutdown()
            thread.join()
            app.extensions["mailadmin"].close()
    finally:
        running.stop()


def sign_in(page: Page, base_url: str, uid: str) -> None:
    """Log in through the login form."""
    page.goto(f"{base_url}/login")
    page.fill("#username", uid)
    page.fill("#password", TOUR_PASSWORD)
    page.click("button[type=submit]")


def shoot(page: Page, base_url: str, stop: Stop, target: Path, full_page: bool = True) -> int | None:
    """A full-page screenshot when the page opens (200, HTML); its overflow in pixels, None if not opened."""
    response = page.goto(f"{base_url}{stop.path}")
    if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
        return None
    if urlsplit(page.url).path != urlsplit(stop.path).path:  # sent elsewhere (an owner's / is /me)
        return None
    page.screenshot(path=str(target), full_page=full_page)
    return int(page.evaluate(OVERFLOW))


def tour(page: Page, base_url: str, world: World, role: str | None, pages: list[Stop], folder: Path,
         full_page: bool = True) -> list[str]:
    """Screenshots of the pages `role` can open (anonymous: None); the overflowing ones."""
    page.context.clear_cookies()
    if role is not None:
        sign_in(page, base_url, world.people[role])
    found = []
    for stop in pages:
        if (role is None) != (stop.endpoint == "auth.login"):
            continue
        name = f"{stop.name}--{role or 'anonymous'}"
        extra = shoot(page, base_url, stop, folder / f"{name}.png", full_page)
        if extra:
            found.append(f"{folder.name} px  {name}  {stop.path}  +{extra} px")
    return found


def main() -> int:
    """Take the screenshots; report overflowing pages."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[1366, 390])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots")
    parser.add_argument("--only", default="", help="pages whose name contains this text (default: all)")
    parser.add_argument("--roles", nargs="+", choices=ROLES, default=list(ROLES))
    parser.add_argument("--screen", action="store_true", help="the first screen only, not the full page")
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    state = Path(tempfile.mkdtemp(prefix="mailadmin-screenshots-"))
    overflowing: list[str] = []
    try:
        with served_world(state / "state") as (base_url, world, pages), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
            for width in options.widths:
                folder = options.out / str(width)
                folder.mkdir(parents=True, exist_ok=True)
                page = browser.new_context(viewport={"width": width, "height": 844}, locale="vi-VN").new_page()
                chosen = [stop for stop in pages if options.only in stop.name]
                for role in (None, *options.roles):
                    overflowing += tour(page, base_url, world, role, chosen, folder, not options.screen)
                page.context.close()
            browser.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    print(f"screenshots in {options.out}")
    print("\n".join(["pages wider than the screen:", *overflowing]) if overflowing
          else "no page is wider than the screen")
    return 1 if overflowing else 0


if __name__ == "__main__":
    sys.exit(main())
