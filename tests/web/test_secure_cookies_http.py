"""Session cookies are Secure when the browser reached nginx over HTTPS, plain on loopback HTTP (development)."""

from __future__ import annotations

import re
from collections.abc import Callable

from mailadmin.model import Unit
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.conftest import PASSWORD
from tests.web.test_serve import request

HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def attributes(set_cookie: str) -> set[str]:
    """The attributes of a Set-Cookie header, lower case, without their values."""
    return {part.split("=")[0].strip().lower() for part in set_cookie.split(";")[1:]}


def sign_in(port: int, uid: str, forwarded: dict[str, str]) -> tuple[str, str]:
    """The Set-Cookie of the login page and of the login itself (302), through `forwarded` headers."""
    _, headers, page = request(port, "GET", "/login", headers=forwarded)
    first = headers["set-cookie"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    form = f"username={uid}&password={PASSWORD}&csrf_token={token}"
    status, headers, _ = request(port, "POST", "/login", form, {
        **forwarded, **_referer(port, forwarded), "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": first.split(";")[0]})
    assert status == 302, headers
    return first, headers["set-cookie"]


def _referer(port: int, forwarded: dict[str, str]) -> dict[str, str]:
    """What a browser sends over HTTPS (Flask-WTF checks it there): the login page as the referrer."""
    return {"Referer": f"https://127.0.0.1:{port}/login"} if forwarded else {}


def test_behind_nginx_over_https_cookies_are_secure_and_plain_http_dev_still_logs_in(
        directory: RunningDirectory, person: Callable[..., str], unit: Unit) -> None:
    uid = person("Bảo Mật Cookie", unit)
    port = free_port()
    with mailadmin_process("serve", "--port", str(port),
                           environ=child_environ(directory, web_trusted_proxy="127.0.0.1")) as process:
        wait_for_port(port, process)
        for cookie in sign_in(port, uid, HTTPS):
            assert {"secure", "httponly", "samesite"} <= attributes(cookie), cookie
            assert "samesite=lax" in cookie.lower()
        for cookie in sign_in(port, uid, {}):  # the same process on loopback HTTP: no Secure, or logins break
            assert "secure" not in attributes(cookie) and {"httponly", "samesite"} <= attributes(cookie), cookie


def test_a_forwarded_proto_from_an_untrusted_peer_is_not_believed(directory: RunningDirectory) -> None:
    port = free_port()
    with mailadmin_process("serve", "--port", str(port), environ=child_environ(directory)) as process:
        wait_for_port(port, process)
        _, headers, _ = request(port, "GET", "/login", headers=HTTPS)
    assert "secure" not in attributes(headers["set-cookie"])
