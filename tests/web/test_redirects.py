"""Open-redirect bypasses against every `next` the web admin takes, over HTTP to `mailadmin serve`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import quote, urljoin, urlsplit

import pytest

from mailadmin.model import Unit
from mailadmin.web.redirects import safe_next
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.conftest import PASSWORD
from tests.web.test_serve import request

# As they appear in the query string (already percent-encoded where a raw byte could not be sent).
BYPASSES = (
    "/%09/evil.com", "/%0d/evil.com", "/%0a/evil.com", "/%0d%0aSet-Cookie:%20x=1",
    "%0d%0aLocation:%20http://evil.com", "//evil.com", "///evil.com", "////evil.com",
    "%2f%2fevil.com", "%2F%2Fevil.com", "/%2f/evil.com", "/%252f/evil.com", "%252f%252fevil.com",
    "/%5cevil.com", "/%5C%5Cevil.com", "/%255cevil.com", "%5c%5cevil.com", "/%2f%5cevil.com",
    "https://evil.com", "http:evil.com", "https:/evil.com", "%68ttps://evil.com", "javascript:alert(1)",
    "data:text/html,x", "//evil.com@127.0.0.1", "http://127.0.0.1@evil.com", "/%20/evil.com",
    "%20//evil.com", "%09//evil.com", "/%00/evil.com", "/%e3%80%80/evil.com", "/%09%0a/evil.com",
    "/%ef%bc%8f/evil.com", "/.//evil.com", "/%2e%2e//evil.com", "/@evil.com", "%ff%fe//evil.com",
    "/x%0d%0a%0d%0a<script>alert(1)</script>",
)


@pytest.fixture(scope="module")
def web_port(directory: RunningDirectory) -> Iterator[int]:
    """One `mailadmin serve` process for the module."""
    port = free_port()
    with mailadmin_process("serve", "--port", str(port), environ=child_environ(directory)) as process:
        wait_for_port(port, process)
        yield port


def assert_stays_home(port: int, status: int, location: str) -> None:
    """A redirect whose target, read as a browser reads it, is this host."""
    assert status == 302, (status, location)
    browser_view = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    assert location.startswith("/") and not browser_view.startswith("//"), location
    assert urlsplit(urljoin(f"http://127.0.0.1:{port}/lang/vi", browser_view)).netloc == f"127.0.0.1:{port}"


def test_language_switch_answers_every_bypass_with_a_local_path(web_port: int) -> None:
    for payload in BYPASSES:
        status, headers, _ = request(web_port, "GET", f"/lang/vi?next={payload}")
        assert_stays_home(web_port, status, headers.get("location", ""))


def test_language_switch_still_returns_to_the_page(web_port: int) -> None:
    target = "/mailboxes?q=" + quote("Nguyễn") + "&page=2"
    status, headers, _ = request(web_port, "GET", "/lang/en?next=" + quote(target, safe=""))
    assert status == 302 and headers["location"] == target


def _login(port: int, uid: str, next_value: str) -> tuple[int, str, str]:
    """GET the login page with a `next`, then POST it; (status, Location, the page's form action)."""
    status, headers, page = request(port, "GET", f"/login?next={next_value}")
    assert status == 200, page
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    action = re.search(r'<form method="post" action="([^"]*)"', page).group(1).replace("&amp;", "&")
    status, headers, _ = request(port, "POST", action, f"username={uid}&password={PASSWORD}&csrf_token={token}",
                                 {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    return status, headers.get("location", ""), action


def test_login_never_sends_anyone_away(web_port: int, person: Callable[..., str], unit: Unit) -> None:
    uid = person("Chuyển Hướng An Toàn", unit)
    for payload in BYPASSES:
        status, location, _ = _login(web_port, uid, payload)
        assert_stays_home(web_port, status, location)


def test_login_returns_to_the_page_that_asked_for_it(web_port: int, person: Callable[..., str],
                                                     unit: Unit) -> None:
    status, headers, _ = request(web_port, "GET", "/mailboxes?page=2")
    assert status == 302 and headers["location"].startswith("/login?next=")
    status, location, _ = _login(web_port, person("Quay Lại Trang", unit), headers["location"].split("next=", 1)[1])
    assert status == 302 and location == "/mailboxes?page=2"


def test_safe_next_keeps_local_paths_and_refuses_the_rest() -> None:
    assert safe_next("/units/555?tab=a#x", "/") == "/units/555?tab=a#x"
    for bad in (None, "", "evil.com", "/\\evil.com", "/\t/evil.com", "/%2f%2fevil.com", "/a\x7f", "/.//evil.com",
                "/a/../../x"):
        assert safe_next(bad, "/home") == "/home"
