"""API tokens live in the directory: two web hosts with their own state folders share them (issue #15, 3).

Host A is a `mailadmin serve` on the private directory's state folder, host B another `mailadmin serve`
with a state folder of its own that reaches the same directory as an external server. A token made
on A's /me/token page acts on B; a newer token, or a logout on A, ends it on B as well.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from mailadmin.directory.api_tokens import TOKEN
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.errors import PermissionDenied
from mailadmin.model import Role, Unit
from mailadmin.services.tokens import mention_leftover_file
from mailadmin.slapd import SlapdPaths
from mailadmin.smtp.config import mailserver_directory
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.conftest import PASSWORD
from tests.web.test_sessions_live import Browser, api


@pytest.fixture(scope="module")
def hosts(directory: RunningDirectory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """Host A on the directory's own state folder, host B on a state folder of its own."""
    other_state = tmp_path_factory.mktemp("host-b")
    (other_state / "secrets").mkdir()
    (other_state / "secrets" / "api-tokens.json").write_text("{}", encoding="utf-8")  # a leftover of the file store
    environments = [child_environ(directory),
                    {**child_environ(directory), "MAILADMIN_STATE_DIR": str(other_state),
                     "MAILADMIN_LDAP_URIS": directory.slapd.uri,
                     "MAILADMIN_LDAP_BIND_DN": directory.slapd.status().bind_dn,
                     "MAILADMIN_LDAP_BIND_PASSWORD_FILE": str(SlapdPaths.of(directory.settings).service_password)}]
    with ExitStack() as stack:
        ports = []
        for environ in environments:
            port = free_port()
            process = stack.enter_context(mailadmin_process("serve", "--port", str(port), environ=environ))
            wait_for_port(port, process)
            ports.append(port)
        yield ports[0], ports[1]


@pytest.fixture
def owner(person: Callable[..., str], unit: Unit) -> str:
    return person("Chủ Mã Truy", unit, Role.UNITADMIN, (unit,))


def token_from_page(browser: Browser) -> str:
    """POST /me/token, then read the token off the page it redirects to."""
    assert browser.post("/me/token", {})[0] == 302
    status, _, page = browser.request("GET", "/me/token")
    match = re.search(r'<span id="token">([^<]+)</span>', page)
    assert status == 200 and match, page
    return match.group(1)


def test_a_token_made_on_one_host_acts_on_the_other_until_replaced_or_logged_out(
        hosts: tuple[int, int], owner: str) -> None:
    on_a = Browser(hosts[0])
    assert on_a.login(owner) == 302
    first = token_from_page(on_a)
    status, body = api(hosts[1], first)
    assert status == 200 and body["uid"] == owner
    second = token_from_page(on_a)  # a new token replaces the old one everywhere
    assert api(hosts[1], first)[0] == 401 and api(hosts[1], second)[0] == 200
    assert on_a.post("/logout", {}, csrf_from="/me")[0] == 302
    status, body = api(hosts[1], second)
    assert status == 401 and "token" in str(body["error"]) and "mã" in str(body["error_vi"])
    assert api(hosts[0], second)[0] == 401


def test_a_token_names_its_owner_but_only_its_secret_lets_it_act(hosts: tuple[int, int], owner: str,
                                                                 services: Services) -> None:
    token = services.tokens.issue(owner)
    secret = token.rpartition(".")[2]
    forged = [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), f"ma_{owner}x.{secret}",
              f"ma_*)(uid=*.{secret}", f"ma_{owner}.", "ma_" + secret, token + "\u00e9", "x" * 300]
    for wrong in forged:
        status, body = api(hosts[1], wrong)
        assert status == 401 and body["error_vi"], wrong
    assert api(hosts[1], token)[0] == 200


def test_a_revoked_token_acts_nowhere(hosts: tuple[int, int], owner: str, services: Services) -> None:
    token = services.tokens.issue(owner)
    assert api(hosts[1], token)[0] == 200
    services.tokens.revoke(owner)
    assert api(hosts[0], token)[0] == 401 and api(hosts[1], token)[0] == 401
    services.tokens.revoke(owner)  # nothing left to revoke: no error


def test_only_the_service_account_reads_or_writes_the_token_digest(owner: str, services: Services,
                                                                   directory: RunningDirectory) -> None:
    services.tokens.issue(owner)
    dn = services.mailboxes.store.find_entry(owner).dn
    assert services.client.get(dn, [TOKEN]).text(TOKEN)
    config = services.client.config
    readers = [DirectoryClient(DirectoryConfig(config.uris, config.base_dn, dn, PASSWORD)),
               DirectoryClient(mailserver_directory(directory.settings))]
    try:
        for reader in readers:
            entry = reader.get(dn, [TOKEN])
            assert entry is None or entry.raw(TOKEN) == []
            assert reader.search(config.base_dn, f"({TOKEN}=*)") == []
            with pytest.raises(PermissionDenied):
                reader.modify(dn, {TOKEN: ("replace", ["0" * 64 + "$20260101000000Z$chosen"])})
    finally:
        for reader in readers:
            reader.close()


def test_a_token_file_of_the_former_store_is_only_mentioned_in_the_log(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    leftover = tmp_path / "api-tokens.json"
    mention_leftover_file(leftover)
    assert not caplog.records
    leftover.write_text('{"0": {"uid": "x", "epoch": ""}}', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        mention_leftover_file(leftover)
    assert "api-tokens.json is ignored" in caplog.text and "/me/token" in caplog.text
