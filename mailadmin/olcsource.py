"""What an existing cn=config server needs, derived from the private slapd.conf: one source of truth.

The private directory's template (templates/slapd/slapd.conf.j2) is rendered for this configuration
and converted by slapd itself (`slaptest -f slapd.conf -F DIR`) into cn=config entries, so the
schema, modules, overlays, indexes, limits and access rules an external server gets are exactly
those the private one runs with, in slapd's own normal form (what the live server answers too).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mailadmin.directory.ldif import read_ldif
from mailadmin.directory.replication import replicator_dn
from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.settings import Settings
from mailadmin.slapd import PrivateSlapd
from mailadmin.slapd_peers import (
    Replication,
    check_server_id,
    cn_config_ldif,
    external_peers,
    replicator_access,
    replicator_password_file,
)

Attributes = dict[str, list[str]]
SCHEMA_PARENT = "cn=schema,cn=config"
PROJECT_SCHEMA = "mailadmin"  # config/mailadmin.schema: the one schema whose definitions change between releases
SCHEMA_ATTRIBUTES = ("olcObjectIdentifier", "olcLdapSyntaxes", "olcAttributeTypes", "olcObjectClasses")
# Debian's own rule for root on the local socket (its frontend and cn=config carry it): mailadmin's
# rules end with `by * none`, so without it root could no longer write the data tree through ldapi.
ROOT_RULE = "access to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break"
_ORDER = re.compile(r"^\{-?\d+\}")
OPERATIONAL = {"structuralobjectclass", "entryuuid", "creatorsname", "createtimestamp", "entrycsn",
               "modifiersname", "modifytimestamp", "contextcsn"}


@dataclass(frozen=True)
class WantedConfig:
    """Everything mailadmin needs in cn=config, in application order."""

    module_path: str
    modules: tuple[str, ...]
    schemas: tuple[tuple[str, Attributes], ...]
    indexes: tuple[str, ...]
    limits: tuple[str, ...]
    access: tuple[str, ...]
    overlays: tuple[tuple[str, Attributes], ...]
    monitor_access: tuple[str, ...]


def unordered(value: str) -> str:
    """A cn=config value without its `{N}` position prefix."""
    return _ORDER.sub("", value)


def wanted_config(settings: Settings) -> WantedConfig:
    """Render the private template for `settings` and let slaptest convert it to cn=config."""
    with tempfile.TemporaryDirectory(prefix="mailadmin-olc-") as folder:
        entries = converted(settings, Path(folder))
    return _wanted(entries)


def converted(settings: Settings, folder: Path) -> dict[str, Attributes]:
    """DN -> attributes of the cn=config slaptest makes of the private slapd.conf (root rule first)."""
    # Replication (slapd.peers) is rendered on its own, with the real replicator password: replication_ldif();
    # only its access rule is ours to keep in place, or `directory check` and a re-run would move it.
    plain = dataclasses.replace(settings, state_dir=folder, slapd=dataclasses.replace(
        settings.slapd, tls_cert_file="", tls_key_file="", tls_port=0, require_tls=False, peers=()))
    config = PrivateSlapd(plain).write_config()
    text = config.read_text(encoding="utf-8")
    first = "\n".join((*replicator_rules(settings), ROOT_RULE))
    config.write_text(text.replace("\naccess to ", f"\n{first}\naccess to ", 1), encoding="utf-8")
    output = folder / "slapd.d"
    output.mkdir()
    # slaptest opens the database; an empty one (slapadd of nothing) lets it finish without -u,
    # which would skip writing the converted config.
    _run(settings, "slapadd", "-q", "-f", str(config), "-l", "/dev/null")
    _run(settings, "slaptest", "-f", str(config), "-F", str(output))
    return {_dn(path.relative_to(output)): _user_attributes(read_ldif(path.read_text(encoding="utf-8"))[0][1])
            for path in output.rglob("*.ldif")}


def replicator_rules(settings: Settings) -> tuple[str, ...]:
    """With slapd.peers, the replication account's read rule, first (where replication_ldif once put it)."""
    if not external_peers(settings):
        return ()
    base = settings.organisation.base_dn
    return (replicator_access(base, replicator_dn(base)),)


def _user_attributes(attributes: Attributes) -> Attributes:
    return {name: values for name, values in attributes.items() if name.lower() not in OPERATIONAL}


def _run(settings: Settings, tool: str, *arguments: str) -> None:
    binary = Path(settings.slapd.binary).with_name(tool)
    result = subprocess.run([str(binary), *arguments], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ConfigError(t("{tool} không chuyển được cấu hình sang cn=config: {e}",
                            "{tool} could not convert the configuration to cn=config: {e}",
                            tool=tool, e=(result.stderr or result.stdout).strip()[-500:]))


def _dn(relative: Path) -> str:
    return ",".join(reversed(relative.with_suffix("").parts))


def _position(dn: str) -> int:
    match = re.search(r"\{(-?\d+)\}", dn.split(",", 1)[0])
    return int(match.group(1)) if match else 0


def _children(entries: dict[str, Attributes], parent: str) -> list[tuple[str, Attributes]]:
    found = [(dn, attributes) for dn, attributes in entries.items() if dn.endswith("," + parent)
             and "," not in dn[:-len(parent) - 1]]
    return sorted(found, key=lambda item: _position(item[0]))


def _database(entries: dict[str, Attributes], kind: str) -> tuple[str, Attributes]:
    for dn, attributes in entries.items():
        if unordered(attributes.get("olcDatabase", [""])[0]) == kind:
            return dn, attributes
    raise ConfigError(t("Cấu hình chuyển đổi thiếu cơ sở dữ liệu {kind}",
                        "the converted config lacks a {kind} database", kind=kind))


def _wanted(entries: dict[str, Attributes]) -> WantedConfig:
    modules = entries["cn=module{0},cn=config"]
    mdb_dn, mdb = _database(entries, "mdb")
    overlays = tuple((unordered(attributes["olcOverlay"][0]),
                      {k: v for k, v in attributes.items() if k != "olcOverlay"})
                     for _, attributes in _children(entries, mdb_dn))
    schemas = tuple((unordered(attributes["cn"][0]), {k: attributes[k] for k in SCHEMA_ATTRIBUTES if k in attributes})
                    for _, attributes in _children(entries, SCHEMA_PARENT))
    return WantedConfig(
        module_path=modules["olcModulePath"][0], modules=tuple(unordered(m) for m in modules["olcModuleLoad"]),
        schemas=schemas, indexes=tuple(mdb.get("olcDbIndex", [])),
        limits=tuple(unordered(v) for v in mdb.get("olcLimits", [])),
        access=tuple(unordered(v) for v in mdb.get("olcAccess", [])), overlays=overlays,
        monitor_access=tuple(unordered(v) for v in _database(entries, "monitor")[1].get("olcAccess", [])))


def replication_ldif(settings: Settings) -> str:
    """slapd.server_id and slapd.peers as cn=config LDIF for this existing server ("" without peers).

    The replicator's password lives beside the service account's (ldap.bind_password_file).
    """
    peers = external_peers(settings)
    if not peers:
        return ""
    secret = replicator_password_file(settings)
    base = settings.organisation.base_dn
    replication = Replication(check_server_id(settings.slapd.server_id), peers, base, replicator_dn(base),
                              read_or_create_secret(secret))
    return f"# replication: slapd.server_id, slapd.peers (the replicator's password: {secret})\n" + \
        cn_config_ldif(replication)
