"""Writes that reach a provider by replication (syncrepl) must not leave a stale kept list.

slapd applies replicated changes as internal operations: they never pass through
connection_operation, so cn=Monitor's operation counters do not move (measured here, and
servers/slapd/connection.c). The suffix's contextCSN (syncprov) does: one value per serverID.
Two real slapds in multi-provider replication, a DirectoryClient on the second.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.errors import MailadminError
from tests.conftest import free_port

BASE = "dc=peers,dc=vn"
ROOT = f"cn=admin,{BASE}"
PASSWORD = "Mat-khau-ban-sao-2026"
PEOPLE = "(objectClass=person)"
BY_NAME = ("cn:caseIgnoreOrderingMatch",)


def provider_conf(folder: Path, server_id: int, peer_port: int) -> str:
    """A minimal multi-provider slapd: mdb + syncprov, syncrepl from the peer, a readable monitor."""
    return f"""include /etc/ldap/schema/core.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
moduleload sssvlv
moduleload back_monitor
serverID {server_id}
pidfile {folder}/slapd.pid
database mdb
suffix "{BASE}"
rootdn "{ROOT}"
rootpw {PASSWORD}
directory {folder}/db
index entryCSN,entryUUID eq
syncrepl rid={3 - server_id:03d} provider=ldap://127.0.0.1:{peer_port} bindmethod=simple binddn="{ROOT}"
  credentials={PASSWORD} searchbase="{BASE}" type=refreshAndPersist retry="1 +" timeout=1
multiprovider on
overlay syncprov
overlay sssvlv
database monitor
access to * by * read
"""


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[tuple[DirectoryClient, DirectoryClient]]:
    """Clients of two replicating providers (the second one keeps sorted lists)."""
    ports = [free_port(), free_port()]
    processes = []
    for number, port in enumerate(ports, start=1):
        folder = tmp_path / f"provider{number}"
        (folder / "db").mkdir(parents=True)
        (folder / "slapd.conf").write_text(provider_conf(folder, number, ports[2 - number]))
        processes.append(subprocess.Popen(["slapd", "-d", "0", "-f", str(folder / "slapd.conf"),
                                           "-h", f"ldap://127.0.0.1:{port}"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    clients = [DirectoryClient(DirectoryConfig((f"ldap://127.0.0.1:{port}",), BASE, ROOT, PASSWORD))
               for port in ports]
    try:
        until(lambda: clients[0].add(BASE, {"objectClass": ["dcObject", "organization"], "o": ["peers"],
                                            "dc": ["peers"]}))
        until(lambda: clients[1].get(BASE, ["dc"]) or _missing())
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.close()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def names(client: DirectoryClient) -> list[str]:
    entries, _ = client.window(BASE, PEOPLE, BY_NAME, 0, 50, ("cn",))
    return [entry.text("cn") for entry in entries]


def test_a_replicated_write_is_seen_on_the_next_page(peers: tuple[DirectoryClient, DirectoryClient]) -> None:
    first, second = peers
    first.add(f"cn=An,{BASE}", {"objectClass": ["person"], "cn": ["An"], "sn": ["Lê"]})
    until(lambda: names(second) == ["An"] or _missing())  # kept on the second provider
    sorts = second.sorts
    counters = second.change_stamp()
    first.add(f"cn=Binh,{BASE}", {"objectClass": ["person"], "cn": ["Binh"], "sn": ["Trần"]})
    until(lambda: second.get(f"cn=Binh,{BASE}", ["cn"]) or _missing())  # replicated
    assert second.change_stamp() == counters  # cn=Monitor did not move on the second provider
    assert names(second) == ["An", "Binh"]  # ...yet the kept list was not taken for current
    assert second.sorts == sorts + 1
    second.add(f"cn=Cuc,{BASE}", {"objectClass": ["person"], "cn": ["Cuc"], "sn": ["Phạm"]})
    # our own write: taken in (ASCII values: their order is reproduced exactly, ordering.py)
    assert names(second) == ["An", "Binh", "Cuc"] and second.sorts == sorts + 1


def until(action: Callable[[], object], seconds: float = 10.0) -> None:
    """Retry while the providers start or replicate (they answer within milliseconds on loopback)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            action()
            return
        except (MailadminError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _missing() -> None:
    raise AssertionError("not there yet")
