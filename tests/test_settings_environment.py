"""MAILADMIN_<SECTION>_<KEY> variables are checked like config-file keys: a misspelt one stops the program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailadmin.errors import ConfigError
from mailadmin.settings import load_settings


def status(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MAILADMIN_")}
    env |= {"MAILADMIN_STATE_DIR": str(tmp_path / "var"), **variables}
    return subprocess.run([sys.executable, "-m", "mailadmin", "directory", "status", "--json"],
                          capture_output=True, text=True, env=env, timeout=60)


def test_a_misspelt_variable_stops_the_command_naming_it(tmp_path: Path) -> None:
    result = status(tmp_path, MAILADMIN_WEB_PROT="5001")
    assert result.returncode == 8 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Lỗi: ") and "MAILADMIN_WEB_PROT" in result.stderr
    assert "Error: unknown config variable MAILADMIN_WEB_PROT" in result.stderr
    assert "MAILADMIN_WEB_PORT" in result.stderr  # the likely meaning is suggested


@pytest.mark.parametrize("name", ["MAILADMIN_WEB", "MAILADMIN_LDAP_URIS_X", "MAILADMIN_", "MAILADMIN_NOPE"])
def test_sections_and_unknown_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"MAILADMIN_STATE_DIR": str(tmp_path), name: "1"})


def test_documented_variables_that_are_not_keys_are_accepted(tmp_path: Path) -> None:
    override = tmp_path / "site.yaml"
    override.write_text("web:\n  port: 5050\n")
    result = status(tmp_path, MAILADMIN_CONFIG=str(override), MAILADMIN_LANG="en", MAILADMIN_PYTHON="python3",
                    MAILADMIN_TRUST_ANCHORS=str(tmp_path), MAILADMIN_WEB_PORT="5001", MAILADMIN_LDAP_URIS="")
    assert result.returncode != 8 and '"uri"' in result.stdout, result.stderr  # 1: no slapd running there


def test_other_prefixes_are_not_ours(tmp_path: Path) -> None:
    settings = load_settings({"MAILADMIN_STATE_DIR": str(tmp_path), "MAILADMINX_WEB_PROT": "1",
                              "mailadmin_web_prot": "1"})
    assert settings.state_dir == tmp_path
