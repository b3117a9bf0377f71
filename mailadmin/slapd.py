"""The private OpenLDAP server: writes its config under the state folder, starts, stops, reports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from mailadmin.directory import dit
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.directory.ldif import write_ldif
from mailadmin.directory.mailrouting import mailserver_account
from mailadmin.directory.replication import (
    PeerState,
    advance_context_csn,
    ensure_replicator,
    peer_states,
    read_context_csn,
    replicator_dn,
)
from mailadmin.errors import ConfigError, DirectoryError, DirectoryUnavailable
from mailadmin.i18n import t
from mailadmin.passwords import hash_generated
from mailadmin.resources import project_path
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.settings import Settings
from mailadmin.slapd_peers import (
    CHECKPOINT,
    REPLICATOR_PASSWORD_FILE,
    SESSION_LOG,
    Replication,
    check_server_id,
    peers_of,
)

MAP_SIZE = 8 * 1024**3
# Made lazily by the web app (session cookies) and the second factor (TOTP secrets); with peers, at the
# first peer's start: a session signed, or a secret sealed, on one host must be read on the others.
SHARED_KEYS = ("web-session.key", "second-factor.key")
# slapd processes this interpreter started, kept so they can be reaped by wait() on stop.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class SlapdPaths:
    """Every file of one private directory, all below <state>/ldap and <state>/secrets."""

    root: Path
    secrets: Path

    @classmethod
    def of(cls, settings: Settings) -> SlapdPaths:
        return cls(settings.state_dir / "ldap", settings.state_dir / "secrets")

    @property
    def config(self) -> Path:
        return self.root / "slapd.conf"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def pid(self) -> Path:
        return self.root / "slapd.pid"

    @property
    def log(self) -> Path:
        return self.root / "slapd.log"

    @property
    def index_stamp(self) -> Path:
        """The `index` lines the database's indexes were last built for."""
        return self.root / "indexes"

    @property
    def socket(self) -> Path:
        return self.root / "ldapi"

    @property
    def service_password(self) -> Path:
        return self.secrets / "ldap-service.password"

    @property
    def root_password(self) -> Path:
        return self.secrets / "ldap-root.password"

    @property
    def mailserver_password(self) -> Path:
        """Password of the read-only account the mail servers bind as."""
        return self.secrets / "ldap-mailserver.password"

    @property
    def replicator_password(self) -> Path:
        """Password of the account the replicated peers' syncrepl binds as."""
        return self.secrets / REPLICATOR_PASSWORD_FILE


@dataclass(frozen=True)
class SlapdStatus:
    """What `mailadmin directory status` reports."""

    uri: str
    ldapi_uri: str
    base_dn: str
    bind_dn: str
    password_file: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def as_dict(self) -> dict[str, object]:
        return {"uri": self.uri, "base_dn": self.base_dn, "bind_dn": self.bind_dn,
                "password_file": self.password_file, "pid": self.pid}


class PrivateSlapd:
    """One private slapd, an ordinary child process of whoever starts it."""

    def __init__(self, settings: Settings, *, no_sync: bool = False) -> None:
        self.settings = settings
        self.paths = SlapdPaths.of(settings)
        self.no_sync = no_sync

    @property
    def uri(self) -> str:
        return f"ldap://{self.settings.slapd.host}:{self.settings.slapd.port}"

    @property
    def ldaps_uri(self) -> str:
        """The ldaps:// listener ("" when slapd.tls_port is 0)."""
        slapd = self.settings.slapd
        return f"ldaps://{slapd.host}:{slapd.tls_port}" if slapd.tls_port else ""

    @property
    def ldapi_uri(self) -> str:
        return "ldapi://" + quote(str(self.paths.socket), safe="")

    @property
    def base_dn(self) -> str:
        return self.settings.organisation.base_dn

    @property
    def client_uris(self) -> tuple[str, ...]:
        """Where clients of this state folder connect, in failover order: this server, then its peers."""
        return (self.uri, *(peer for peer in self.settings.slapd.peers if peer != self.uri))

    def status(self) -> SlapdStatus:
        """Where the directory listens and whether it runs."""
        return SlapdStatus(self.uri, self.ldapi_uri, self.base_dn, dit.service_dn(self.base_dn),
                           str(self.paths.service_password), self.running_pid())

    def running_pid(self) -> int | None:
        """PID of our slapd, only if that process is alive and really is our slapd."""
        try:
            pid = int(self.paths.pid.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if str(self.paths.config).encode() in cmdline else None

    def start(self) -> SlapdStatus:
        """Write the config, create the database on first start, run slapd, wait for it."""
        if self.running_pid():
            return self.status()
        self._check_binary()
        self._check_tls()
        for port in (self.settings.slapd.port, self.settings.slapd.tls_port):
            if port:
                self._check_port_free(port)
        joining, existed = self.joins_peers, self.has_database
        self._prepare()
        if existed and self.replication():
            self._advance_context_csn()
        listeners = " ".join(uri for uri in (self.uri, self.ldaps_uri, self.ldapi_uri) if uri)
        self._wait_until_ready(self._spawn(listeners), self._port_answers)
        if self.settings.slapd.peers and not joining:
            self._ensure_replicator()
            self._create_shared_keys()
        return self.status()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop our slapd (and only ours); True if one was running."""
        _forget_ended_children()
        pid = self.running_pid()
        if pid is None:
            return False
        _terminate(pid, timeout)
        return True

    def _spawn(self, listeners: str, config: Path | None = None) -> subprocess.Popen[bytes]:
        self.paths.log.unlink(missing_ok=True)
        command = [self.settings.slapd.binary, "-d", "0", "-f", str(config or self.paths.config), "-h", listeners]
        with open(self.paths.root / "slapd.stderr", "wb") as stderr:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr,
                                       stderr=stderr, start_new_session=True)
        _forget_ended_children()
        _CHILDREN[process.pid] = process
        return process

    def _check_binary(self) -> None:
        if not os.access(self.settings.slapd.binary, os.X_OK):
            raise ConfigError(t(
                "Không tìm thấy slapd tại {path}: cài gói Debian slapd và ldap-utils",
                "slapd not found at {path}: install the Debian packages slapd and ldap-utils",
                path=self.settings.slapd.binary))

    def _check_tls(self) -> None:
        slapd = self.settings.slapd
        if not slapd.tls_cert_file:
            if slapd.require_tls or slapd.tls_port:
                raise ConfigError(t("slapd.require_tls và slapd.tls_port cần slapd.tls_cert_file và tls_key_file",
                                    "slapd.require_tls and slapd.tls_port need slapd.tls_cert_file and tls_key_file"))
            return
        for key, path in (("tls_cert_file", slapd.tls_cert_file), ("tls_key_file", slapd.tls_key_file)):
            if not path or not os.access(self.settings.resolve(path), os.R_OK):
                raise ConfigError(t("Không đọc được slapd.{key} ({path})", "cannot read slapd.{key} ({path})",
                                    key=key, path=path))

    def _check_port_free(self, port: int) -> None:
        host = self.settings.slapd.host
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise DirectoryError(t(
                    "Cổng {host}:{port} đang bị chương trình khác dùng ({e}); đặt MAILADMIN_SLAPD_PORT",
                    "port {host}:{port} is in use by another program ({e}); set MAILADMIN_SLAPD_PORT",
                    host=host, port=port, e=exc.strerror)) from exc

    @property
    def has_database(self) -> bool:
        """Whether the state folder holds a database (possibly with entries in it)."""
        return (self.paths.data / "data.mdb").exists()

    def load_database(self, ldif: Path) -> None:
        """Create the database from an LDIF file (a backup) instead of the skeleton; slapd must be stopped."""
        config = self._write_config()
        self._slapadd(ldif)
        self.paths.index_stamp.write_text(_index_signature(config), encoding="utf-8")

    def dump_command(self, output: Path) -> list[str]:
        """slapcat of the whole database to `output`: one read transaction, safe while slapd runs (mdb)."""
        slapcat = Path(self.settings.slapd.binary).with_name("slapcat")
        return [str(slapcat), "-f", str(self.paths.config), "-o", "ldif-wrap=no", "-l", str(output)]

    def write_config(self) -> Path:
        """Write slapd.conf (and the root password) of this state folder; its path."""
        self._write_config()
        return self.paths.config

    def _write_config(self) -> str:
        for folder in (self.paths.root, self.paths.data, self.paths.secrets):
            folder.mkdir(parents=True, exist_ok=True)
        self.paths.secrets.chmod(0o700)
        config = self._render_config(read_or_create_secret(self.paths.root_password))
        self.paths.config.write_text(config, encoding="utf-8")
        self.paths.config.chmod(0o600)  # syncrepl's credentials are in it
        return config

    def _prepare(self) -> None:
        config = self._write_config()
        indexes = _index_signature(config)
        if not self.has_database:
            if not self.joins_peers:  # a joining peer starts empty and receives the tree by replication
                self._load_skeleton(read_or_create_secret(self.paths.service_password))
        elif _read(self.paths.index_stamp) != indexes:
            self._reindex()
        self.paths.index_stamp.write_text(indexes, encoding="utf-8")

    def _reindex(self) -> None:
        """Build the indexes an upgrade added (slapd.conf's `index` lines changed since the last start).

        slapd does not build a new index over existing entries by itself: until slapindex has run,
        a search on a newly indexed attribute silently finds nothing.
        """
        slapindex = Path(self.settings.slapd.binary).with_name("slapindex")
        result = subprocess.run([str(slapindex), "-q", "-f", str(self.paths.config)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DirectoryError(t("slapindex không dựng lại được chỉ mục: {e}",
                                   "slapindex could not rebuild the indexes: {e}",
                                   e=_last_lines(result.stderr + result.stdout)))

    def _render_config(self, root_password: str, *, consumers: bool = True) -> str:
        base = self.base_dn
        environment = Environment(loader=FileSystemLoader(project_path("templates")),
                                  undefined=StrictUndefined, keep_trailing_newline=True)
        template = environment.get_template("slapd/slapd.conf.j2")
        slapd = self.settings.slapd
        return template.render(
            generated_by=", ".join(self.settings.source), schema_dir=slapd.schema_dir,
            project_schema=project_path("config", "mailadmin.schema"),
            modules_dir=slapd.modules_dir, pid_file=self.paths.pid,
            args_file=self.paths.root / "slapd.args", log_file=self.paths.log, log_level="none",
            map_size=MAP_SIZE, base_dn=base, root_dn=dit.root_dn(base),
            root_password_hash=hash_generated(root_password), data_dir=self.paths.data,
            no_sync=self.no_sync, service_dn=dit.service_dn(base),
            default_policy_dn=dit.default_policy_dn(base), **self._tls_files(), **self._replication(),
            consumers=consumers,
        )

    def _tls_files(self) -> dict[str, object]:
        slapd = self.settings.slapd
        if not slapd.tls_cert_file:
            return {"tls_cert_file": "", "tls_key_file": "", "require_tls": False}
        return {"tls_cert_file": self.settings.resolve(slapd.tls_cert_file),
                "tls_key_file": self.settings.resolve(slapd.tls_key_file), "require_tls": slapd.require_tls}

    def _load_skeleton(self, service_password: str) -> None:
        ldif = "".join(write_ldif(skeleton_entries(self.settings, service_password)))
        skeleton = self.paths.root / "skeleton.ldif"
        skeleton.write_text(ldif, encoding="utf-8")
        self._slapadd(skeleton)

    def _slapadd(self, ldif: Path) -> None:
        slapadd = Path(self.settings.slapd.binary).with_name("slapadd")
        result = subprocess.run([str(slapadd), "-q", "-f", str(self.paths.config), "-l", str(ldif)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DirectoryError(t("slapadd không tạo được cơ sở dữ liệu: {e}",
                                   "slapadd could not create the database: {e}",
                                   e=_last_lines(result.stderr + result.stdout)))

    def _wait_until_ready(self, process: subprocess.Popen[bytes], answers: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.settings.slapd.start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                _CHILDREN.pop(process.pid, None)
                raise DirectoryError(t("slapd dừng ngay khi khởi động: {e}",
                                       "slapd exited while starting: {e}", e=self._start_log()))
            if answers():
                return
            time.sleep(0.02)
        process.kill()
        process.wait()
        _CHILDREN.pop(process.pid, None)
        raise DirectoryUnavailable(t("slapd không trả lời sau {s} giây: {e}",
                                     "slapd did not answer within {s} s: {e}",
                                     s=self.settings.slapd.start_timeout, e=self._start_log()))

    def _port_answers(self) -> bool:
        try:
            with socket.create_connection((self.settings.slapd.host, self.settings.slapd.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _socket_answers(self) -> bool:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(self.paths.socket))
                return True
            except OSError:
                return False

    def _start_log(self) -> str:
        texts = []
        for path in (self.paths.log, self.paths.root / "slapd.stderr"):
            if path.exists():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
        return _last_lines("\n".join(texts)) or "no log output"

    # -- replicated peers (slapd.server_id, slapd.peers; slapd_peers.py) ---------------------------

    @property
    def joins_peers(self) -> bool:
        """A first start with peers and the first peer's secrets copied in: the tree comes by replication."""
        return bool(self.settings.slapd.peers) and not self.has_database and self.paths.service_password.exists()

    def replication(self) -> Replication | None:
        """This server's replication settings (None: a single directory)."""
        peers = peers_of(self.uri, self.settings.slapd.peers)
        if not peers:
            return None
        return Replication(check_server_id(self.settings.slapd.server_id), peers, self.base_dn,
                           replicator_dn(self.base_dn), read_or_create_secret(self.paths.replicator_password))

    def _replication(self) -> dict[str, object]:
        replication = self.replication()
        return {"replication": replication, "peers": replication.peers if replication else (),
                "checkpoint": CHECKPOINT, "session_log": SESSION_LOG}

    def _service_client(self) -> DirectoryClient:
        password = self.paths.service_password.read_text(encoding="utf-8").strip()
        return DirectoryClient(DirectoryConfig((self.uri,), self.base_dn, dit.service_dn(self.base_dn),
                                               password, kept_lists=0))

    def _advance_context_csn(self) -> None:
        """Before any peer can connect, make this server's contextCSN cover every entry it holds.

        syncprov stores its contextCSN only at checkpoints and at a clean stop, and on back-mdb never
        corrects it after a crash (docs/directory.md, "A crash can strand the last writes"); a
        supervisor may remove the pid file a crash leaves, so this runs at every start with peers:
        slapd on its ldapi:// socket alone, without syncrepl, makes one change and stops cleanly.
        """
        config = self.paths.root / "slapd-repair.conf"
        config.write_text(self._render_config(read_or_create_secret(self.paths.root_password), consumers=False),
                          encoding="utf-8")
        config.chmod(0o600)
        process = self._spawn(self.ldapi_uri, config)
        try:
            self._wait_until_ready(process, self._socket_answers)
            password = self.paths.service_password.read_text(encoding="utf-8").strip()
            advance_context_csn(self.ldapi_uri, dit.service_dn(self.base_dn), password, self.base_dn,
                                self.settings.slapd.server_id)
        finally:
            _terminate(process.pid, 30.0)

    def _ensure_replicator(self) -> None:
        """The replication account in a directory made before it (or before it had peers)."""
        client = self._service_client()
        try:
            ensure_replicator(client, read_or_create_secret(self.paths.replicator_password))
        finally:
            client.close()

    def _create_shared_keys(self) -> None:
        """Keys every peer's web processes must share, made now so that copying secrets/ carries them."""
        for name in SHARED_KEYS:
            read_or_create_secret(self.paths.secrets / name, 32)

    def peer_status(self) -> list[PeerState]:
        """Each peer: reachable, its contextCSN and how far it is behind this server."""
        password = _read(self.paths.service_password) or ""
        service = dit.service_dn(self.base_dn)
        own = read_context_csn(self.uri, service, password.strip(), self.base_dn)
        peers = tuple(peer.uri for peer in peers_of(self.uri, self.settings.slapd.peers))
        return peer_states(own, peers, service, password.strip(), self.base_dn)


def skeleton_entries(settings: Settings, service_password: str,
                     mailserver_password: str | None = None) -> list[tuple[str, dict]]:
    """The entries a new directory starts with: base, system accounts, password policies."""
    base = settings.organisation.base_dn
    if mailserver_password is None:
        mailserver_password = read_or_create_secret(SlapdPaths.of(settings).mailserver_password)
    policy = settings.passwords
    first_attribute, first_value = base.split(",", 1)[0].split("=", 1)
    base_classes = {"dc": ["dcObject", "organization"], "o": ["organization"]}.get(
        first_attribute.lower(), ["organizationalUnit"])
    base_entry = {"objectClass": ["top", *base_classes], first_attribute: [first_value]}
    if first_attribute.lower() == "dc":
        base_entry["o"] = [settings.organisation.mail_domain]
    common = {"objectClass": ["organizationalRole", "pwdPolicy"], "pwdAttribute": ["userPassword"],
              "pwdAllowUserChange": ["TRUE"], "pwdCheckQuality": ["1"]}
    return [
        (base, base_entry),
        (f"ou={dit.SYSTEM_OU},{base}", {"objectClass": ["organizationalUnit"], "ou": [dit.SYSTEM_OU]}),
        (f"ou={dit.POLICIES_OU},{base}",
         {"objectClass": ["organizationalUnit"], "ou": [dit.POLICIES_OU]}),
        (dit.default_policy_dn(base), {
            **common, "cn": ["default"], "pwdMinLength": [str(policy.min_length)],
            "pwdMaxFailure": [str(policy.max_failures)], "pwdLockout": ["TRUE"],
            "pwdLockoutDuration": [str(policy.lockout_seconds)],
            "pwdFailureCountInterval": [str(policy.lockout_seconds)], "pwdMustChange": ["TRUE"],
            "pwdInHistory": ["3"],
        }),
        (dit.service_policy_dn(base), {**common, "cn": ["service"], "pwdLockout": ["FALSE"]}),
        (dit.service_dn(base), {
            "objectClass": ["applicationProcess", "simpleSecurityObject"], "cn": ["mailadmin"],
            "description": ["mailadmin web app, CLI and SMTP service"],
            "userPassword": [hash_generated(service_password)],
            "pwdPolicySubentry": [dit.service_policy_dn(base)],
        }),
        mailserver_account(base, mailserver_password),
    ]


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM (slapd writes its contextCSN and removes its pid file), SIGKILL after `timeout`; reaped."""
    os.kill(pid, signal.SIGTERM)
    child = _CHILDREN.pop(pid, None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.02)
    else:
        os.kill(pid, signal.SIGKILL)
    if child is not None:
        child.wait()


def _forget_ended_children() -> None:
    """Drop the slapd children that ended without stop() (killed, crashed; maybe reaped elsewhere).

    Kept, each would stay in _CHILDREN until exit and warn "subprocess N is still running" there.
    """
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            _CHILDREN.pop(pid, None)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in _proc_state(pid)


def _proc_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0]
    except (OSError, IndexError):
        return ""


def _index_signature(config: str) -> str:
    """The `index` lines of a slapd.conf, normalised: what the database's indexes must match."""
    lines = (" ".join(line.split()) for line in config.splitlines())
    return "\n".join(sorted(line for line in lines if line.startswith("index "))) + "\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _last_lines(text: str, count: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-count:] if line.strip())
