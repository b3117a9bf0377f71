"""Settings: config/mailadmin.yaml, then MAILADMIN_CONFIG, then MAILADMIN_* variables."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, cast, get_type_hints

import yaml

from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.resources import project_path, project_root

ENV_PREFIX = "MAILADMIN_"
# MAILADMIN_ variables that are not MAILADMIN_<SECTION>_<KEY> settings, read elsewhere on purpose.
NON_KEY_VARIABLES = frozenset({
    "MAILADMIN_CONFIG",  # an override file (load_settings)
    "MAILADMIN_LANG",  # the terminal's language (i18n.current_language)
    "MAILADMIN_TRUST_ANCHORS",  # certificate trust anchors (services/certificates.py)
    "MAILADMIN_PYTHON",  # the interpreter scripts/lib.sh builds the venv with
})


@dataclass(frozen=True)
class Organisation:
    base_dn: str
    mail_domain: str
    units_file: str
    name: str
    name_en: str
    old_domains: tuple[str, ...] = ()  # former domains still delivered (aliases kept by a reorganisation)


@dataclass(frozen=True)
class Ldap:
    uris: tuple[str, ...]
    bind_dn: str
    bind_password_file: str
    connect_timeout: int
    receive_timeout: int
    page_size: int
    kept_lists: int
    kept_list_seconds: int
    ca_file: str
    start_tls: bool


@dataclass(frozen=True)
class Slapd:
    binary: str
    modules_dir: str
    schema_dir: str
    host: str
    port: int
    start_timeout: int
    tls_cert_file: str
    tls_key_file: str
    tls_port: int
    require_tls: bool
    server_id: int
    peers: tuple[str, ...]


@dataclass(frozen=True)
class Addresses:
    pattern: str
    reserved: tuple[str, ...]


@dataclass(frozen=True)
class Mailboxes:
    default_quota_mib: int
    retention_days: int


@dataclass(frozen=True)
class Passwords:
    argon2_time_cost: int
    argon2_memory_kib: int
    min_length: int
    max_failures: int
    lockout_seconds: int
    min_strength: int
    history: int


@dataclass(frozen=True)
class Auth:
    second_factor_roles: tuple[str, ...]
    certificate_sign_in: bool = False
    certificate_only_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Web:
    host: str
    port: int
    threads: int
    trusted_proxy: str
    session_minutes: int
    metrics_allow: tuple[str, ...]


@dataclass(frozen=True)
class Demo:
    admin_uid: str
    seed: int


@dataclass(frozen=True)
class Certificates:
    trust_anchors: str
    crl_files: tuple[str, ...]
    mail_policy: str
    expiring_days: int
    reminder_days: tuple[int, ...]
    max_bundle_mib: int


@dataclass(frozen=True)
class Imports:
    max_file_mib: int
    max_rows: int
    batch_size: int
    unconfirmed_hours: int
    results_days: int


@dataclass(frozen=True)
class MailClients:
    """What officials type into their mail program (shown on /me); hosts empty: mail.<mail_domain>."""

    imap_host: str
    imap_port: int
    imap_security: str
    smtp_host: str
    smtp_port: int
    smtp_security: str


@dataclass(frozen=True)
class Mailstore:
    """Where the mail store (Dovecot) reports quota use: its doveadm HTTP API; url empty: not asked."""

    doveadm_url: str
    doveadm_key_file: str
    timeout_seconds: int


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    submission_port: int
    workers: int
    hostname: str
    spool_dir: str
    tls_cert_file: str
    tls_key_file: str
    plaintext_auth_on_loopback: int
    max_message_bytes: int
    max_recipients: int
    max_connections_per_client: int
    timeout_seconds: int
    relay_host: str
    relay_port: int
    bind_dn: str
    bind_password_file: str
    sender: str
    send_host: str
    send_port: int
    metrics_port: int
    trusted_networks: tuple[str, ...]


@dataclass(frozen=True)
class Log:
    format: str


@dataclass(frozen=True)
class Names:
    """How names are split (mailadmin.names.NameOrder): which are written family-last."""

    family_last_prefixes: tuple[str, ...]
    family_last_compounds: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    """Every setting, validated and typed; built once by load_settings()."""

    organisation: Organisation
    state_dir: Path
    ldap: Ldap
    slapd: Slapd
    addresses: Addresses
    mailboxes: Mailboxes
    passwords: Passwords
    auth: Auth
    web: Web
    demo: Demo
    certificates: Certificates
    imports: Imports
    smtp: Smtp
    mail_clients: MailClients
    names: Names
    log: Log
    mailstore: Mailstore
    source: tuple[str, ...] = field(default=(), compare=False)

    @property
    def embedded_directory(self) -> bool:
        """True when no external LDAP server is configured: the private slapd is used."""
        return not self.ldap.uris

    @property
    def ldap_ca_file(self) -> str:
        """ldap.ca_file as an absolute path, or "" for the system's CAs."""
        return str(self.resolve(self.ldap.ca_file)) if self.ldap.ca_file else ""

    def resolve(self, path: str | Path) -> Path:
        """A configured path: absolute as given, else relative to the project folder."""
        path = Path(path)
        return path if path.is_absolute() else project_root() / path


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the defaults, the MAILADMIN_CONFIG file and MAILADMIN_* variables."""
    environ = os.environ if environ is None else environ
    defaults_file = project_path("config", "mailadmin.yaml")
    data = _read_yaml(defaults_file)
    sources = [str(defaults_file)]
    override = environ.get(ENV_PREFIX + "CONFIG")
    if override:
        _merge(data, _read_yaml(Path(override)), Path(override))
        sources.append(override)
    _refuse_unknown_variables(environ, set(_apply_environment(data, environ)))
    settings = _build(Settings, data, "")
    state_dir = settings.resolve(settings.state_dir)
    return _replace(settings, state_dir=state_dir, source=tuple(sources))


def _replace(settings: Settings, **changes: Any) -> Settings:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values.update(changes)
    return Settings(**values)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except OSError as exc:
        raise ConfigError(
            t("Không đọc được tệp cấu hình {path}: {e}", "cannot read config file {path}: {e}",
              path=path, e=exc.strerror)
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(
            t("Tệp cấu hình {path} không phải YAML hợp lệ: {e}",
              "config file {path} is not valid YAML: {e}", path=path, e=exc)
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(t("Tệp cấu hình {path} phải là một bảng khóa: giá trị",
                            "config file {path} must be a mapping of keys", path=path))
    return data


def _merge(base: dict[str, Any], override: dict[str, Any], origin: Path | str, prefix: str = "") -> None:
    for key, value in override.items():
        name = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(t("Khóa cấu hình không biết: {name} (trong {origin})",
                                "unknown config key: {name} (in {origin})", name=name, origin=origin))
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(t("Khóa cấu hình {name} phải là một bảng",
                                    "config key {name} must be a mapping", name=name))
            _merge(base[key], value, origin, name + ".")
        else:
            base[key] = value


def _apply_environment(data: dict[str, Any], environ: Mapping[str, str], prefix: str = "") -> Iterator[str]:
    """Put MAILADMIN_<SECTION>_<KEY> values into `data`; yields every variable name a key has."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _apply_environment(value, environ, name + "_")
            continue
        variable = ENV_PREFIX + name.upper()
        yield variable
        if variable in environ:
            raw = environ[variable]
            data[key] = [item.strip() for item in raw.split(",") if item.strip()] \
                if isinstance(value, list) else raw


def _refuse_unknown_variables(environ: Mapping[str, str], known: set[str]) -> None:
    """A misspelt variable would be ignored silently: refuse it, as an unknown config-file key is."""
    for variable in sorted(environ):
        if variable.startswith(ENV_PREFIX) and variable not in known and variable not in NON_KEY_VARIABLES:
            close = difflib.get_close_matches(variable, sorted(known | NON_KEY_VARIABLES), n=1)
            hint = t(" (có phải {v}?)", " (did you mean {v}?)", v=close[0]) if close else t("", "")
            raise ConfigError(t("Biến cấu hình không biết: {name} (trong biến môi trường){hint}",
                                "unknown config variable {name} (in the environment){hint_en}", name=variable,
                                hint=hint.render("vi"), hint_en=hint.render("en")))


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    values = {}
    for f in fields(cls):
        if not f.init or f.name == "source":
            continue
        name = f"{prefix}{f.name}"
        if f.name not in data:
            raise ConfigError(t("Thiếu khóa cấu hình {name}", "missing config key {name}", name=name))
        values[f.name] = _convert(hints[f.name], data[f.name], name)
    return cls(**values)


def _convert(kind: Any, value: Any, name: str) -> Any:
    if is_dataclass(kind):
        if not isinstance(value, dict):
            raise ConfigError(t("Khóa cấu hình {name} phải là một bảng",
                                "config key {name} must be a mapping", name=name))
        return _build(cast(type, kind), value, name + ".")
    try:
        if kind is bool:
            return _boolean(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value)
        if kind is Path:
            return Path(str(value))
        if kind is str:
            return "" if value is None else str(value)
        if getattr(kind, "__origin__", None) is tuple:
            items = [] if value is None else value
            if isinstance(items, str) or not isinstance(items, list):
                raise ValueError(value)
            item_kind = kind.__args__[0]
            if item_kind is int and any(isinstance(item, bool) for item in items):
                raise ValueError(value)
            return tuple(item_kind(item) for item in items)
    except (TypeError, ValueError) as exc:
        raise ConfigError(t("Giá trị cấu hình {name} không hợp lệ: {value!r}",
                            "invalid value for config key {name}: {value!r}", name=name, value=value)
                          ) from exc
    return value


def _boolean(value: Any) -> bool:
    """true/false, yes/no, on/off or 1/0 (YAML or an environment variable); anything else is refused."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    if str(value).strip().lower() not in words:
        raise ValueError(value)
    return words[str(value).strip().lower()]
