"""`mailadmin serve`: the web admin under waitress, as `scripts/run` and a production host start it."""

from __future__ import annotations

import http.client
import re
import signal
import socket
from collections.abc import Callable

from mailadmin.model import Unit
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.conftest import PASSWORD


def request(port: int, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
            ) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        connection.close()


def test_serve_logs_in_and_stops_cleanly_on_sigterm(directory: RunningDirectory, person: Callable[..., str],
                                                    unit: Unit) -> None:
    uid = person("Phục Vụ Web", unit)
    port = free_port()
    with mailadmin_process("serve", "--port", str(port), environ=child_environ(directory)) as process:
        wait_for_port(port, process)
        status, headers, page = request(port, "GET", "/login")
        assert status == 200 and "csrf_token" in page
        cookie = headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = f"username={uid}&password={PASSWORD}&csrf_token={token}"
        status, headers, _ = request(port, "POST", "/login", form, {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        assert status == 302, headers
        status, _, page = request(port, "GET", "/me", headers={"Cookie": headers["set-cookie"].split(";")[0]})
        assert status == 200 and "Phục Vụ Web" in page
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_serve_on_a_port_in_use_says_so_in_both_languages(directory: RunningDirectory) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with mailadmin_process("serve", "--port", str(port), environ=child_environ(directory)) as process:
            _, err = process.communicate(timeout=30)
    assert process.returncode != 0 and "Traceback" not in err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Không mở được cổng" in err


def failed_logins(port: int, clients: list[str]) -> list[int]:
    """One failed login from each client address (as a proxy would report it); the statuses."""
    statuses = []
    for number, client in enumerate(clients):
        forwarded = {"X-Forwarded-For": client}
        _, headers, page = request(port, "GET", "/login", headers=forwarded)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = f"username=khong-co-{number}&password=sai&csrf_token={token}"
        status, _, _ = request(port, "POST", "/login", form, {
            **forwarded, "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": headers["set-cookie"].split(";")[0]})
        statuses.append(status)
    return statuses


def test_behind_a_trusted_proxy_throttling_counts_the_real_client(directory: RunningDirectory) -> None:
    """Ten failures per address per 5 minutes: behind a proxy that must mean the client's address."""
    clients = [f"10.0.0.{n}" for n in range(1, 13)]
    for proxy, expected in (("127.0.0.1", [401] * 12), ("", [401] * 10 + [429] * 2)):
        port = free_port()
        environ = child_environ(directory, web_trusted_proxy=proxy)
        with mailadmin_process("serve", "--port", str(port), environ=environ) as process:
            wait_for_port(port, process)
            assert failed_logins(port, clients) == expected, proxy
