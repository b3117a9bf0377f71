"""Two existing cn=config servers made a replicated pair with `directory prepare --external`: only the first
writes the tree (base, ou=system, ou=policies, the accounts); the second, empty, receives it by replication
with the first's entryUUIDs, as OpenLDAP's admin guide fills a new replica (syncrepl's initial refresh)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import eventually
from tests.debian_slapd import DebianSlapd
from tests.test_external_directory import BASE, external_environ, mailadmin

pytestmark = pytest.mark.slow


class EmptySlapd(DebianSlapd):
    """A cn=config server whose database holds nothing yet, not even the base entry."""

    def _slapadd(self, base: str, ldif: str) -> None:
        if base == "cn=config":
            super()._slapadd(base, ldif)


def tree(server: DebianSlapd) -> dict[str, str]:
    """DN -> entryUUID of every entry below the base ({} when there is no base entry)."""
    found = subprocess.run(["ldapsearch", "-Q", "-LLL", "-o", "ldif-wrap=no", "-Y", "EXTERNAL", "-H",
                            server.ldapi_uri, "-b", BASE, "entryUUID"], capture_output=True, text=True, check=False)
    assert found.returncode in (0, 32), found.stderr
    entries: dict[str, str] = {}
    for block in found.stdout.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "dn" in lines:
            entries[lines["dn"].lower()] = lines.get("entryUUID", "")
    return entries


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[DebianSlapd, DebianSlapd]]:
    if os.geteuid() != 0:
        pytest.skip("SASL EXTERNAL on ldapi:// maps to root only when the test runs as root (CI does)")
    first, second = DebianSlapd(tmp_path / "a", BASE, "Phu Yen"), EmptySlapd(tmp_path / "b", BASE, "Phu Yen")
    first.start()
    try:
        second.start()
        yield first, second
    finally:
        second.stop()
        first.stop()


def replicated(server: DebianSlapd, server_id: int, peers: str) -> dict[str, str]:
    return {**external_environ(server), "MAILADMIN_SLAPD_SERVER_ID": str(server_id), "MAILADMIN_SLAPD_PEERS": peers}


def prepare(environ: dict[str, str], server: DebianSlapd) -> str:
    """`directory prepare --external`, then the printed replication LDIF applied with ldapmodify."""
    done = mailadmin(environ, "directory", "prepare", "--external", "--config-uri", server.ldapi_uri)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = mailadmin(environ, "directory", "prepare", "--external", "--print-ldif", "--config-uri",
                        server.ldapi_uri)
    assert printed.returncode == 0, printed.stderr
    server.ldapmodify(printed.stdout)
    return done.stdout


def test_the_second_provider_receives_the_first_ones_tree(servers: tuple[DebianSlapd, DebianSlapd]) -> None:
    first, second = servers
    peers = f"{first.uri},{second.uri}"
    prepare(replicated(first, 1, peers), first)
    made = tree(first)
    assert f"cn=mailadmin,ou=system,{BASE}" in made and f"cn=replicator,ou=system,{BASE}" in made
    shutil.copytree(first.root / "secrets", second.root / "secrets")  # as docs/directory.md says
    output = prepare(replicated(second, 2, peers), second)
    assert f"arrive by replication from {first.uri}" in output, output
    eventually(lambda: _same(tree(second), made), seconds=30)
    for server, server_id in ((first, 1), (second, 2)):
        environ = replicated(server, server_id, peers)
        checked = mailadmin(environ, "directory", "check", "--json", "--config-uri", server.ldapi_uri)
        failed = [item for item in json.loads(checked.stdout)["items"] if not item["ok"]]
        assert checked.returncode == 0 and not failed, (server.uri, failed)
        again = mailadmin(environ, "directory", "prepare", "--external", "--config-uri", server.ldapi_uri)
        assert again.returncode == 0 and "Nothing changed" in again.stdout, again.stdout + again.stderr


def _same(found: dict[str, str], wanted: dict[str, str]) -> None:
    assert {dn: uuid for dn, uuid in found.items() if dn in wanted} == wanted


def refused_second(servers: tuple[DebianSlapd, DebianSlapd]) -> str:
    """The first prepared, the second's prepare without the first's password files: its stderr (it must fail)."""
    first, second = servers
    peers = f"{first.uri},{second.uri}"
    prepare(replicated(first, 1, peers), first)
    refused = mailadmin(replicated(second, 2, peers), "directory", "prepare", "--external", "--config-uri",
                        second.ldapi_uri)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert first.uri in refused.stderr, refused.stderr
    return refused.stderr


def test_a_second_provider_without_the_first_ones_passwords_is_refused(
        servers: tuple[DebianSlapd, DebianSlapd]) -> None:
    """It cannot tell whether the first holds the tree, and only the first may write it: nothing is written."""
    assert "password" in refused_second(servers)
    assert tree(servers[1]) == {}


def test_a_refused_second_provider_writes_no_password_file(servers: tuple[DebianSlapd, DebianSlapd]) -> None:
    """Passwords made on a later server would differ from the first's: it is refused before any is made."""
    assert "secrets/" in refused_second(servers)
    assert list((servers[1].root / "secrets").glob("*.password")) == []


def test_a_second_provider_holding_the_packages_base_entry_is_told_to_empty_it(
        servers: tuple[DebianSlapd, DebianSlapd], tmp_path: Path) -> None:
    """Debian's postinst writes the base entry on every server: the joining one must drop it first."""
    first, _ = servers
    second = DebianSlapd(tmp_path / "c", BASE, "Phu Yen")
    second.start()
    try:
        peers = f"{first.uri},{second.uri}"
        prepare(replicated(first, 1, peers), first)
        shutil.copytree(first.root / "secrets", second.root / "secrets")
        before = tree(second)
        refused = mailadmin(replicated(second, 2, peers), "directory", "prepare", "--external", "--config-uri",
                            second.ldapi_uri)
        assert refused.returncode != 0 and "must start empty" in refused.stderr, refused.stdout + refused.stderr
        assert "ldapdelete" in refused.stderr and tree(second) == before
    finally:
        second.stop()
