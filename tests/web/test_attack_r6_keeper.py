"""The socket keeper (round 6) seen from the web: a keeper killed (the OOM killer picks it, an operator's kill)
must not break the web's later writes, and a web user doing many imports must not make keepers pile up: one
keeper per process, started again only when the last one is gone."""

from __future__ import annotations

import os
import signal
import time

from flask.testing import FlaskClient

from mailadmin.directory import keeper
from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.test_attack_import_rights import confirm, uploaded
from tests.web.test_imports_http import by_hr_id, staff_csv, wait_done


def imported(client: FlaskClient, unit: Unit, services: Services, prefix: str) -> None:
    data, hr_ids = staff_csv(unit, "Đỗ Văn Giữ Một", "Đỗ Thị Giữ Hai", prefix=prefix)
    job = uploaded(client, data)
    assert confirm(client, job).status_code == 302
    wait_done(client, job)
    assert sorted(by_hr_id(services, hr_ids)) == sorted(hr_ids)  # search order is the directory's, not ours


def current_keeper() -> keeper.Keeper:
    assert keeper._keeper is not None and keeper._keeper.alive()
    return keeper._keeper


def test_a_killed_keeper_is_replaced_and_writes_go_on(admin_client: FlaskClient, unit: Unit,
                                                      services: Services) -> None:
    imported(admin_client, unit, services, "KEEP1")
    first = current_keeper()
    imported(admin_client, unit, services, "KEEP2")
    assert current_keeper() is first  # one keeper per process, not one per job
    os.kill(first._process.pid, signal.SIGKILL)  # the keeper this test process started
    deadline = time.monotonic() + 10
    while first.alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not first.alive()
    imported(admin_client, unit, services, "KEEP3")
    assert current_keeper() is not first


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_keepers_killed_again_and_again_leak_no_descriptors(admin_client: FlaskClient, unit: Unit,
                                                            services: Services) -> None:
    imported(admin_client, unit, services, "LEAK0")
    before = open_descriptors()
    for round_ in range(1, 4):
        gone = current_keeper()
        os.kill(gone._process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while gone.alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        imported(admin_client, unit, services, f"LEAK{round_}")
    assert open_descriptors() < before + 3  # one control socket per kill before the fix; one transient allowed
