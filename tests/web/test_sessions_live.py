"""Sessions and API tokens end with the account's state, in every `mailadmin serve` process (issue #10, 3 and 4).

Two real web processes on one directory: what one of them does (logout, password change, reset,
suspension, a bulk action) ends the person's sessions and tokens in the other one too.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import pytest

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.conftest import PASSWORD

NEW_PASSWORD = "Mat-khau-rat-moi-2026"


class Browser:
    """A cookie-keeping HTTP client of one web process."""

    def __init__(self, port: int, cookie: str = "", source: str = "127.0.0.5") -> None:
        self.port = port
        self.cookie = cookie
        # An address of 127/8 of these tests' own: other tests of the session fail logins from
        # 127.0.0.1 on purpose, and the throttle counts per address for every process of the host.
        self.source = source

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                                source_address=(self.source, 0))
        sent = {**(headers or {}), **({"Cookie": self.cookie} if self.cookie else {})}
        body = urlencode(form) if form is not None else None
        if form is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            connection.close()
        if "set-cookie" in answer[1]:
            self.cookie = answer[1]["set-cookie"].split(";")[0]
        return answer

    def csrf(self, path: str) -> str:
        _, _, page = self.request("GET", path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def post(self, path: str, form: dict[str, str], csrf_from: str | None = None) -> tuple[int, dict[str, str], str]:
        return self.request("POST", path, {**form, "csrf_token": self.csrf(csrf_from or path)})

    def login(self, uid: str, password: str = PASSWORD) -> int:
        return self.post("/login", {"username": uid, "password": password})[0]

    def signed_in(self) -> bool:
        """Whether /me answers as a logged-in person (else a redirect to the login page)."""
        return self.request("GET", "/me")[0] == 200


@pytest.fixture(scope="module")
def web_ports(directory: RunningDirectory) -> Iterator[tuple[int, int]]:
    """Two `mailadmin serve` processes on the same directory and state folder."""
    with ExitStack() as stack:
        ports = []
        for _ in range(2):
            port = free_port()
            process = stack.enter_context(mailadmin_process("serve", "--port", str(port),
                                                            environ=child_environ(directory)))
            wait_for_port(port, process)
            ports.append(port)
        yield ports[0], ports[1]
        stack.close()


@pytest.fixture
def owner(person: Callable[..., str], unit: Unit) -> str:
    return person("Chủ Phiên Làm", unit, Role.UNITADMIN, (unit,))


@pytest.fixture
def admin(web_ports: tuple[int, int], person: Callable[..., str], unit: Unit) -> Browser:
    """A super admin logged in on the first process."""
    browser = Browser(web_ports[0])
    assert browser.login(person("Quản Trị Phiên", unit, Role.SUPERADMIN)) == 302
    return browser


def both_logged_in(ports: tuple[int, int], uid: str) -> tuple[Browser, Browser]:
    first, second = Browser(ports[0]), Browser(ports[1])
    assert first.login(uid) == 302 and second.login(uid) == 302
    assert first.signed_in() and second.signed_in()
    return first, second


def test_a_cookie_saved_before_logout_is_refused_after_it(web_ports: tuple[int, int], owner: str) -> None:
    first, second = both_logged_in(web_ports, owner)
    saved = Browser(web_ports[1], first.cookie)  # the same cookie, replayed against the other process
    assert saved.signed_in()
    assert first.post("/logout", {}, csrf_from="/me")[0] == 302
    assert not saved.signed_in() and not Browser(web_ports[0], saved.cookie).signed_in()
    assert not second.signed_in()  # logout ends every session of the person
    assert first.login(owner) == 302 and first.signed_in()


def test_a_password_change_ends_the_other_sessions_not_this_one(web_ports: tuple[int, int], owner: str) -> None:
    first, second = both_logged_in(web_ports, owner)
    status, _, _ = first.post("/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "confirm": NEW_PASSWORD})
    assert status == 302
    assert first.signed_in()
    assert not second.signed_in()


@pytest.mark.parametrize("action", ["suspend", "retire", "password"])
def test_an_admin_action_in_one_process_ends_sessions_in_the_other(
        web_ports: tuple[int, int], owner: str, admin: Browser, action: str) -> None:
    first, second = both_logged_in(web_ports, owner)
    path = f"/mailboxes/{owner}/password" if action == "password" else f"/mailboxes/{owner}/status/{action}"
    assert admin.post(path, {}, csrf_from=f"/mailboxes/{owner}")[0] in (200, 302)
    assert not first.signed_in() and not second.signed_in()


def test_a_bulk_suspension_ends_sessions(web_ports: tuple[int, int], owner: str, admin: Browser,
                                         unit: Unit) -> None:
    _, second = both_logged_in(web_ports, owner)
    assert admin.post("/mailboxes/bulk", {"action": "suspend", "uid": owner, "unit": unit.code},
                      csrf_from="/mailboxes")[0] in (200, 302)
    assert not second.signed_in()


def api(port: int, token: str) -> tuple[int, dict[str, object]]:
    browser = Browser(port)
    status, _, body = browser.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return status, json.loads(body)


@pytest.mark.parametrize("change", ["suspend", "retire", "reset", "logout"])
def test_a_token_ends_with_its_holder(web_ports: tuple[int, int], owner: str, services: Services,
                                      change: str) -> None:
    token = services.tokens.issue(owner)
    assert api(web_ports[1], token)[0] == 200
    if change == "logout":
        browser = Browser(web_ports[0])
        assert browser.login(owner) == 302
        browser.post("/logout", {}, csrf_from="/me")
    elif change == "reset":
        services.mailboxes.reset_password(owner)
    else:
        getattr(services.mailboxes, change)(owner)
    status, body = api(web_ports[1], token)
    assert status == 401 and "token" in str(body["error"]) and "mã" in str(body["error_vi"])
    if change in ("suspend", "retire"):
        services.mailboxes.resume(owner)
        assert api(web_ports[0], token)[0] == 401  # a new token is needed after reactivation


def test_a_token_of_someone_who_must_change_the_password_acts_no_more(
        web_ports: tuple[int, int], services: Services, unit: Unit) -> None:
    uid = services.mailboxes.add(NewMailbox(full_name="Phải Đổi Mật", unit_code=unit.code)).mailbox.uid
    token = services.tokens.issue(uid)  # issued while the initial password still must be changed
    status, body = api(web_ports[0], token)
    assert status == 403 and "change it" in str(body["error"]) and "đổi mật khẩu" in str(body["error_vi"])


def run_cli(directory: RunningDirectory, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "mailadmin", *args], env=child_environ(directory),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_an_imported_status_change_ends_sessions(web_ports: tuple[int, int], owner: str, services: Services,
                                                 tmp_path: Path, directory: RunningDirectory) -> None:
    """The HR import writes through the directory store's batch path: the epoch moves there too."""
    services.mailboxes.update(owner, title="", phone="", hr_id=f"HR-{owner}", quota_mib=0, aliases=())
    _, second = both_logged_in(web_ports, owner)
    exported = run_cli(directory, "export", "--unit", services.mailboxes.get(owner).unit_code)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    status = rows[0].index(next(name for name in rows[0] if "status" in name.lower()))
    rows = [rows[0], *(row for row in rows[1:] if f"HR-{owner}" in row)]
    rows[1][status] = "suspended"
    path = tmp_path / "staff.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    run_cli(directory, "import", str(path))
    assert services.mailboxes.get(owner).status.value == "suspended"
    assert not second.signed_in()
