"""The socket keeper (directory/keeper.py): one per writing process, holding only what is in use, replaced if killed."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from mailadmin.directory import keeper
from tests.conftest import RunningDirectory, eventually, make_agency
from tests.test_directory import person


def keeper_pid() -> int:
    """The pid of this process's keeper (started by a bulk write)."""
    assert keeper._keeper is not None and keeper._keeper.alive()
    return keeper._keeper._process.pid


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_one_keeper_holds_only_the_sockets_in_use(directory: RunningDirectory, tmp_path: Path) -> None:
    services = directory.services
    unit = make_agency(services, "P", "Keeper")
    base = services.client.base_dn
    services.client.add_many([person("keepfirst", unit, base)])
    pid = keeper_pid()
    held_before = open_descriptors(pid)
    for n in range(30):  # 30 bulk writes, two connections each at most, and 30 transactions of the web's kind
        services.client.add_many([person(f"keep{n:02d}x{k}", unit, base) for k in range(3)], batch_size=2)
        with services.client.transaction() as txn:
            txn.modify(person(f"keep{n:02d}x0", unit, base)[0], {"title": ("replace", ["kept"])})
    assert keeper_pid() == pid  # the same keeper all along
    eventually(lambda: _at_most(pid, held_before))  # every socket handed over was given back


def _at_most(pid: int, count: int) -> None:
    assert open_descriptors(pid) <= count


def test_a_killed_keeper_is_replaced_and_writes_go_on(directory: RunningDirectory) -> None:
    services = directory.services
    unit = make_agency(services, "P", "Keeper")
    base = services.client.base_dn
    services.client.add_many([person("killkeeper0", unit, base)])
    first = keeper_pid()
    os.kill(first, signal.SIGKILL)
    keeper._keeper._process.wait()  # type: ignore[union-attr]  # reap it (this process is its parent)
    assert services.client.add_many([person(f"killkeeper{n}", unit, base) for n in range(1, 5)]) == []
    assert keeper_pid() != first
    assert services.client.count(base, "(uid=killkeeper*)") == 5
