"""Failover between directory servers given as a list of URIs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.errors import DirectoryUnavailable
from tests.conftest import RunningDirectory, free_port, make_settings


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[RunningDirectory, RunningDirectory]]:
    """Two independent slapds with the same service password, told apart by a marker entry."""
    first = RunningDirectory(make_settings(tmp_path / "a"), load_units=False)
    (tmp_path / "b" / "secrets").mkdir(parents=True)
    (tmp_path / "b" / "secrets" / "ldap-service.password").write_text(
        (tmp_path / "a" / "secrets" / "ldap-service.password").read_text())
    second = RunningDirectory(make_settings(tmp_path / "b"), load_units=False)
    for name, server in (("first", first), ("second", second)):
        server.services.client.add(f"ou={name},{server.services.client.base_dn}",
                                   {"objectClass": ["organizationalUnit"], "ou": [name]})
    yield first, second
    first.stop()
    second.stop()


@pytest.fixture
def clients() -> Iterator[list[DirectoryClient]]:
    """Clients made by a test, closed after it."""
    made: list[DirectoryClient] = []
    yield made
    for client in made:
        client.close()


def pool(*servers: RunningDirectory, dead_first: bool = False) -> DirectoryClient:
    config = servers[0].services.client.config
    uris = tuple(s.slapd.uri for s in servers)
    if dead_first:
        uris = (f"ldap://127.0.0.1:{free_port()}", *uris)
    return DirectoryClient(DirectoryConfig(uris, config.base_dn, config.bind_dn, config.password,
                                           connect_timeout=1, receive_timeout=3))


def marker(client: DirectoryClient) -> str:
    found = client.search(client.base_dn, "(|(ou=first)(ou=second))", attributes=["ou"])
    return found[0].text("ou")


def test_a_dead_first_uri_is_skipped(two_servers: tuple[RunningDirectory, RunningDirectory],
                                     clients: list[DirectoryClient]) -> None:
    client = pool(two_servers[0], dead_first=True)
    clients.append(client)
    assert marker(client) == "first"


def test_reads_move_to_the_second_server_when_the_first_dies(
        two_servers: tuple[RunningDirectory, RunningDirectory], clients: list[DirectoryClient]) -> None:
    first, second = two_servers
    client = pool(first, second)
    clients.append(client)
    assert marker(client) == "first"
    first.slapd.stop()
    assert marker(client) == "second"  # the pooled connection died; the read is retried on the next URI
    assert client.check_password(client.config.bind_dn, client.config.password)


def test_all_servers_down_is_a_clear_error(two_servers: tuple[RunningDirectory, RunningDirectory],
                                           clients: list[DirectoryClient]) -> None:
    first, second = two_servers
    client = pool(first, second)
    clients.append(client)
    first.slapd.stop()
    second.slapd.stop()
    with pytest.raises(DirectoryUnavailable, match="directory unreachable at ldap://127.0.0.1"):
        marker(client)


def test_probing_a_dead_server_leaves_no_socket_open() -> None:
    """The background probe of a passed-over server that refuses connections (killed) left ldap3's socket
    open until a garbage collection, whose ResourceWarning then failed whatever test ran (CI, kill -9 of A)."""
    import gc
    import warnings

    from ldap3 import NONE, Server

    from mailadmin.directory.failover import answers

    dead = Server(f"ldap://127.0.0.1:{free_port()}", connect_timeout=1, get_info=NONE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        assert not answers(dead)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
