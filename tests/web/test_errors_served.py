"""The error path under `mailadmin serve`: directory down while logged in, a 503 page and the id in the log."""

from __future__ import annotations

import re
import signal

from mailadmin.model import Role
from mailadmin.services.mailboxes import NewMailbox
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, make_agency, wait_for_port
from tests.web.conftest import PASSWORD
from tests.web.test_serve import request


def _superadmin(running: RunningDirectory) -> str:
    services = running.services
    unit = make_agency(services, "S", "Đơn vị phục vụ")
    uid = services.mailboxes.add(NewMailbox(full_name="Quản Trị Phục Vụ", unit_code=unit.code,
                                            password=PASSWORD)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    return uid


def _login(port: int, uid: str) -> str:
    _, headers, page = request(port, "GET", "/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    status, headers, _ = request(port, "POST", "/login", f"username={uid}&password={PASSWORD}&csrf_token={token}",
                                 {"Content-Type": "application/x-www-form-urlencoded",
                                  "Cookie": headers["set-cookie"].split(";")[0]})
    assert status == 302
    return headers["set-cookie"].split(";")[0]


def test_dashboard_with_the_directory_down_under_serve(fresh_directory: RunningDirectory) -> None:
    uid, port = _superadmin(fresh_directory), free_port()
    with mailadmin_process("serve", "--port", str(port), environ=child_environ(fresh_directory)) as process:
        wait_for_port(port, process)
        cookie = _login(port, uid)
        assert request(port, "GET", "/", headers={"Cookie": cookie})[0] == 200
        fresh_directory.slapd.stop()
        status, headers, page = request(port, "GET", "/", headers={"Cookie": cookie})
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert status == 503 and headers["retry-after"] and "Traceback" not in page
    assert "Thư mục LDAP tạm thời không truy cập được" in page and "cannot be reached" in page
    correlation = re.search(r'id="correlation">([0-9a-f]{12})<', page).group(1)
    assert correlation in err and "GET / → 503" in err
