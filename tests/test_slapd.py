"""The private slapd: starts as a child process, reports where it is, stops, explains failures."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mailadmin.errors import ConfigError, DirectoryError
from mailadmin.slapd import PrivateSlapd
from mailadmin.wiring import Services
from tests.certs.factory import der, root_ca
from tests.conftest import make_settings


def test_start_status_stop(tmp_path: Path) -> None:
    slapd = PrivateSlapd(make_settings(tmp_path))
    status = slapd.start()
    try:
        assert status.running
        assert (tmp_path / "ldap" / "data" / "data.mdb").exists()
        assert slapd.start().pid == status.pid  # starting twice is harmless
        # Other tools connect with exactly what status reports.
        found = subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", status.uri, "-D", status.bind_dn, "-y", status.password_file,
             "-b", status.base_dn, "-s", "base", "dn"], capture_output=True, text=True, check=True)
        assert f"dn: {status.base_dn}" in found.stdout
        assert set(status.as_dict()) == {"uri", "base_dn", "bind_dn", "password_file", "pid"}
        json.dumps(status.as_dict())
    finally:
        assert slapd.stop()
    assert not slapd.status().running
    assert not slapd.stop()


def test_config_and_database_stay_in_the_state_folder(tmp_path: Path) -> None:
    slapd = PrivateSlapd(make_settings(tmp_path))
    slapd.start()
    try:
        config = (tmp_path / "ldap" / "slapd.conf").read_text()
        assert str(tmp_path / "ldap" / "data") in config
        assert "/etc/ldap/slapd.d" not in config
        assert oct((tmp_path / "secrets" / "ldap-service.password").stat().st_mode & 0o777) == "0o600"
    finally:
        slapd.stop()


def test_data_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    slapd = PrivateSlapd(settings)
    slapd.start()
    slapd.stop()
    first_password = (tmp_path / "secrets" / "ldap-service.password").read_text()
    slapd.start()
    try:
        assert (tmp_path / "secrets" / "ldap-service.password").read_text() == first_password
        status = slapd.status()
        subprocess.run(["ldapwhoami", "-x", "-H", status.uri, "-D", status.bind_dn, "-y", status.password_file],
                       check=True, capture_output=True)
    finally:
        slapd.stop()


def test_port_in_use_gives_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        slapd = PrivateSlapd(make_settings(tmp_path, MAILADMIN_SLAPD_PORT=str(port)))
        with pytest.raises(DirectoryError, match=f"port 127.0.0.1:{port} is in use"):
            slapd.start()
    assert slapd.running_pid() is None


def test_missing_slapd_binary_is_explained(tmp_path: Path) -> None:
    slapd = PrivateSlapd(make_settings(tmp_path, MAILADMIN_SLAPD_BINARY="/nonexistent/slapd"))
    with pytest.raises(ConfigError, match="install the Debian packages slapd and ldap-utils"):
        slapd.start()


def test_broken_config_is_reported_with_slapds_reason(tmp_path: Path) -> None:
    slapd = PrivateSlapd(make_settings(tmp_path, MAILADMIN_SLAPD_SCHEMA_DIR=str(tmp_path / "no-schema")))
    with pytest.raises(DirectoryError, match="could not create the database|exited while starting") as caught:
        slapd.start()
    assert "no-schema" in str(caught.value)


class OlderRelease(PrivateSlapd):
    """The private directory as a release without the `pres` index on userCertificate wrote it."""

    def _render_config(self, root_password: str) -> str:
        config = super()._render_config(root_password)
        assert "index userCertificate eq,pres\n" in config
        return config.replace("index userCertificate eq,pres\n", "index userCertificate eq\n")


def test_an_index_added_by_an_upgrade_is_built_over_existing_entries(tmp_path: Path) -> None:
    """slapd never indexes existing entries itself: without slapindex the new index finds nothing."""
    settings = make_settings(tmp_path / "state")
    old = OlderRelease(settings)
    old.start()
    services = Services(settings)
    try:
        base = services.client.base_dn
        services.client.add(f"ou=cert-holders,{base}", {"objectClass": ["organizationalUnit"], "ou": ["cert-holders"]})
        services.client.add(f"uid=ctest,ou=cert-holders,{base}", {
            "objectClass": ["inetOrgPerson"], "uid": ["ctest"], "cn": ["C Test"], "sn": ["Test"],
            "userCertificate;binary": [der(root_ca().cert)]})
        services.close()
        old.stop()
        upgraded = PrivateSlapd(settings)
        upgraded.start()
        found = services.client.search(base, "(userCertificate=*)", attributes=["uid"])
        assert [entry.text("uid") for entry in found] == ["ctest"]
        assert "index userCertificate eq,pres" in (settings.state_dir / "ldap" / "indexes").read_text()
    finally:
        services.close()
        PrivateSlapd(settings).stop()


def test_a_slapd_killed_and_reaped_by_someone_else_leaves_no_warning_at_exit(tmp_path: Path) -> None:
    """Tests kill slapd (-9) and reap it themselves; the Popen kept for stop() then warned "subprocess N is
    still running" when the interpreter exited (twice at the end of every CI run)."""
    script = """if True:
        import os, signal, sys
        from pathlib import Path
        from mailadmin.slapd import PrivateSlapd
        from tests.conftest import make_settings
        slapd = PrivateSlapd(make_settings(Path(sys.argv[1])))
        pid = slapd.start().pid
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert not slapd.stop()
    """
    done = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", script, str(tmp_path)],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
