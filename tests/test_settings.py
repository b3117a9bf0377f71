"""Configuration: defaults, an override file, MAILADMIN_* variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailadmin.errors import ConfigError
from mailadmin.settings import load_settings


def test_defaults_use_the_embedded_directory() -> None:
    settings = load_settings({})
    assert settings.embedded_directory
    assert settings.organisation.base_dn == "dc=phuyen,dc=gov,dc=vn"
    assert settings.state_dir.name == "var" and settings.state_dir.is_absolute()


def test_environment_overrides_each_key() -> None:
    settings = load_settings({"MAILADMIN_LDAP_URIS": "ldap://ldap1:389, ldap://ldap2:389",
                              "MAILADMIN_SLAPD_PORT": "3999", "MAILADMIN_STATE_DIR": "/tmp/x"})
    assert settings.ldap.uris == ("ldap://ldap1:389", "ldap://ldap2:389")
    assert not settings.embedded_directory
    assert settings.slapd.port == 3999
    assert settings.state_dir == Path("/tmp/x")


def test_config_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    override = tmp_path / "site.yaml"
    override.write_text("organisation:\n  mail_domain: daklak.gov.vn\naddresses:\n  pattern: '{family}{given}'\n",
                        encoding="utf-8")
    settings = load_settings({"MAILADMIN_CONFIG": str(override)})
    assert settings.organisation.mail_domain == "daklak.gov.vn"
    assert settings.addresses.pattern == "{family}{given}"
    assert settings.organisation.base_dn == "dc=phuyen,dc=gov,dc=vn"


@pytest.mark.parametrize(("content", "message"), [
    ("organisation:\n  mail_domian: x\n", "unknown config key: organisation.mail_domian"),
    ("slapd: 5\n", "config key slapd must be a mapping"),
    ("- a\n- b\n", "must be a mapping of keys"),
    ("slapd: {port: [1]}\n", "invalid value for config key slapd.port"),
    ("a: [unclosed\n", "is not valid YAML"),
])
def test_bad_config_files_are_explained(tmp_path: Path, content: str, message: str) -> None:
    override = tmp_path / "bad.yaml"
    override.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings({"MAILADMIN_CONFIG": str(override)})


def test_missing_config_file_and_bad_variable() -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings({"MAILADMIN_CONFIG": "/nonexistent/mailadmin.yaml"})
    with pytest.raises(ConfigError, match="invalid value for config key slapd.port"):
        load_settings({"MAILADMIN_SLAPD_PORT": "ba nghìn"})
