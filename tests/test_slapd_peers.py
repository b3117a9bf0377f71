"""Replication settings without a running pair: config checks, the slapd.conf block, the cn=config LDIF, lag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailadmin.directory.replication import lag_seconds
from mailadmin.slapd import PrivateSlapd
from mailadmin.slapd_peers import Peer, Replication, cn_config_ldif, peers_of
from tests.conftest import make_settings

CSN_A = "20261201072536.860480Z#000000#001#000000"
CSN_B = "20261201072538.860480Z#000000#002#000000"


def test_no_peers_renders_a_single_directory(tmp_path: Path) -> None:
    slapd = PrivateSlapd(make_settings(tmp_path))
    config = slapd._render_config("Song-Ba-ra-bien-2026")
    assert "syncrepl" not in config and "serverID" not in config and "syncprov" not in config
    assert slapd.replication() is None
    assert not (tmp_path / "secrets" / "ldap-replicator.password").exists()


def test_peers_render_one_syncrepl_each_and_skip_the_own_uri(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MAILADMIN_SLAPD_PORT="3895", MAILADMIN_SLAPD_SERVER_ID="7",
                             MAILADMIN_SLAPD_PEERS="ldap://127.0.0.1:3895,ldap://10.0.0.2:3890,ldap://10.0.0.3:3890")
    slapd = PrivateSlapd(settings)
    config = slapd._write_config()
    assert oct((tmp_path / "ldap" / "slapd.conf").stat().st_mode & 0o777) == "0o600"  # syncrepl credentials
    assert "serverID 7\n" in config and "multiprovider on\n" in config and "overlay syncprov\n" in config
    assert config.count("syncrepl rid=") == 2 and "provider=ldap://127.0.0.1:3895" not in config
    assert slapd.client_uris == ("ldap://127.0.0.1:3895", "ldap://10.0.0.2:3890", "ldap://10.0.0.3:3890")
    assert oct((tmp_path / "secrets" / "ldap-replicator.password").stat().st_mode & 0o777) == "0o600"


def test_bad_peer_or_server_id_stops_with_a_bilingual_message(tmp_path: Path) -> None:
    for variable, value, words in (("MAILADMIN_SLAPD_PEERS", "10.0.0.2:3890", "is not ldap://host:port"),
                                   ("MAILADMIN_SLAPD_SERVER_ID", "4096", "slapd.server_id must be 1 to 4095")):
        environ = {"MAILADMIN_STATE_DIR": str(tmp_path / variable), "MAILADMIN_SLAPD_PORT": "3896",
                   "MAILADMIN_SLAPD_PEERS": "ldap://10.0.0.2:3890", variable: value}
        done = subprocess.run([sys.executable, "-m", "mailadmin", "directory", "start"], text=True,
                              capture_output=True, env=environ, check=False)
        assert done.returncode == 8 and words in done.stderr and "Lỗi:" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
        assert not (tmp_path / variable / "ldap" / "data" / "data.mdb").exists()


def test_the_cn_config_ldif_carries_the_same_syncrepl_as_slapd_conf() -> None:
    replication = Replication(2, peers_of("ldap://10.0.0.2:389", ["ldap://10.0.0.1:389", "ldap://10.0.0.2:389"]),
                              "dc=phuyen,dc=gov,dc=vn", "cn=replicator,ou=system,dc=phuyen,dc=gov,dc=vn", "bi-mat")
    text = cn_config_ldif(replication)
    assert "olcServerID: 2\n" in text and "olcMultiProvider: TRUE\n" in text and "olcOverlay: syncprov\n" in text
    assert f"olcSyncrepl: {{0}}{replication.syncrepl(Peer('001', 'ldap://10.0.0.1:389'))}\n" in text
    assert text.count("olcSyncrepl:") == 1 and "olcModuleLoad: syncprov" in text
    assert text.count("\ndn: ") + text.startswith("dn: ") == 4


def test_lag_is_the_largest_gap_per_server_id() -> None:
    assert lag_seconds((CSN_A, CSN_B), (CSN_A, CSN_B)) == 0.0
    assert lag_seconds((CSN_A, CSN_B), (CSN_A, CSN_B.replace("38.86", "36.36"))) == 2.5
    assert lag_seconds((CSN_A, CSN_B), (CSN_A,)) is None
