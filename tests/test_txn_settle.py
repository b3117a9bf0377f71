"""slapd 2.5.13 crashes when a transaction ends while a worker thread still holds one of its writes.

slapd answers a write sent under a transaction (txn_preop's send_ldap_result) before its worker
thread is done with the Operation: do_add still unlinks an OpExtra from op->o_extra (ITS#9892,
2.5.14), fe_op_add/fe_op_modify still set op->o_bd, connection_operation still reads the op. A
TxnEnd (commit or abort), or the connection closing, frees or executes those queued operations in
another thread at once: "segfault at 0 ... in slapd[48209]" (do_add+0x6a9), crashes in back_mdb, or
a glibc mutex assertion. The client sees "slapd closed the connection".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mailadmin.directory import dit
from mailadmin.errors import Conflict
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, make_agency
from tests.test_directory import person

ROOT = Path(__file__).resolve().parent.parent
KILL_ROUNDS = 8


@pytest.mark.slow
def test_many_short_transactions_do_not_crash_slapd(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    unit = make_agency(services, "S", "Settle")
    base = services.client.base_dn
    errors: list[BaseException] = []

    def import_one_by_one(prefix: str) -> None:
        try:
            entries = [person(f"{prefix}{i:03d}", unit, base) for i in range(60)]
            assert services.client.add_many(entries, batch_size=1) == []  # one transaction per entry
            changes = [(dn, {"title": ("replace", ["x"])}) for dn, _ in entries]
            assert services.client.modify_many(changes, batch_size=1) == []
            for dn, _ in entries[:30]:  # MailboxStore._update_all's way
                with services.client.transaction() as txn:
                    txn.modify(dn, {"title": ("replace", ["y"])})
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=import_one_by_one, args=(f"settle{n}x",)) for n in range(4)]  # CPU contention
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fresh_directory.slapd.running_pid() is not None, "slapd crashed"
    assert errors == []
    assert services.client.count(base, "(title=y)") == 4 * 30


# A writer process that adds entries in pipelined transactions until it is killed.
KILLED_WRITER = """
import sys
from mailadmin.model import Unit, UnitKind
from mailadmin.wiring import open_services
from tests.test_directory import person
services = open_services()
unit = Unit(code=sys.argv[1], name="Killed", kind=UnitKind.AGENCY, path=("54", sys.argv[1]))
base = services.client.base_dn
services.client.add_many((person(f"{sys.argv[2]}{n:05d}", unit, base) for n in range(20_000)), batch_size=250)
"""


@pytest.mark.slow
def test_a_writer_killed_mid_transaction_does_not_crash_slapd(fresh_directory: RunningDirectory) -> None:
    """kill -9 of a bulk writer (an import, a seed, the web process) leaves its transaction to slapd cleanly.

    Before the socket keeper (directory/keeper.py) the socket closed right behind writes slapd had just answered
    or while it executed the commit, and slapd 2.5.13 crashed (in round 0 or 3 with overlapped batches).
    """
    services = fresh_directory.services
    unit = make_agency(services, "K", "Killed")
    for round_number in range(KILL_ROUNDS):
        written = services.client.count(services.client.base_dn, "(objectClass=maMailbox)")
        process = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, unit.code, f"kill{round_number}x"],
                                   env=writer_environ(fresh_directory), cwd=ROOT)
        try:
            wait_until_more_than(services, written + 250 * (1 + round_number % 3), process)
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait()
        time.sleep(0.3)  # slapd reads what the dead writer sent, then the end of the connection
        assert fresh_directory.slapd.running_pid() is not None, f"slapd crashed (round {round_number})"
    assert services.client.count(services.client.base_dn, "(objectClass=maMailbox)") % 250 == 0  # whole batches


def writer_environ(running: RunningDirectory) -> dict[str, str]:
    """The environment of a mailadmin process on the test's directory."""
    return {**os.environ, "MAILADMIN_STATE_DIR": str(running.settings.state_dir),
            "MAILADMIN_SLAPD_PORT": str(running.settings.slapd.port), "PYTHONPATH": str(ROOT)}


def wait_until_more_than(services: Services, count: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until more than `count` mailboxes are written (the writer is then mid-way through its batches)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if services.client.count(services.client.base_dn, "(objectClass=maMailbox)") > count:
            return
        time.sleep(0.01)
    raise AssertionError("the writer never got that far")


def test_a_refused_batch_replayed_leaves_a_new_directory_readable(fresh_directory: RunningDirectory) -> None:
    """A batch refused (a unique-overlay clash) on a directory storing its first HR ids: its aborted transaction
    left slapd 2.5.13 entries it could not decode (mdb_entry_decode, even after a restart; found by the bulkfix
    helper through `mailadmin import`) until `directory init` registered every attribute (directory/probe.py)."""
    services = fresh_directory.services
    unit = make_agency(services, "U", "Replay")
    base = services.client.base_dn
    entries = [person("replaya", unit, base, employeeNumber=["NV-HOA"]),
               person("replayb", unit, base, employeeNumber=["nv-hoa"]),  # the same HR id for slapd
               person("replayc", unit, base, employeeNumber=["NV-KHAC"])]
    [failure] = services.client.add_many(entries)
    assert failure.dn == entries[1][0] and isinstance(failure.error, Conflict)
    assert failure.error.message.render("en").startswith("the HR id nv-hoa")
    found = services.client.search(dit.unit_dn(unit.path, base), "(objectClass=maMailbox)", scope="one",
                                   attributes=["uid"])
    assert sorted(entry.text("uid") for entry in found) == ["replaya", "replayc"]
