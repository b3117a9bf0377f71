"""Multi-provider replication settings: the peers of a private slapd and the same for an existing server.

One source for both renderings: templates/slapd/slapd.conf.j2 (private peers, `directory start`)
and `cn_config_ldif()` (an existing server configured through cn=config, `directory prepare --external`).
The settings follow OpenLDAP 2.5's tests/scripts/test050-syncrepl-multiprovider: a serverID per
server, one syncrepl per other provider (refreshAndPersist, retried), `multiprovider on`, and the
syncprov overlay (which keeps contextCSN per serverID).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.settings import Settings

MAX_SERVER_ID = 4095
RETRY = "1 60 5 +"  # every second for a minute (a restart), then every 5 s for ever
CHECKPOINT, SESSION_LOG = "100 10", "1000"
REPLICATOR_PASSWORD_FILE = "ldap-replicator.password"  # in secrets/, or beside ldap.bind_password_file


@dataclass(frozen=True)
class Peer:
    """One other provider this server pulls changes from."""

    rid: str
    uri: str


@dataclass(frozen=True)
class Replication:
    """What a server needs to be one provider among several."""

    server_id: int
    peers: tuple[Peer, ...]
    base_dn: str
    replicator_dn: str
    replicator_password: str

    def syncrepl(self, peer: Peer) -> str:
        """The syncrepl (olcSyncrepl) value for one peer, on one line."""
        return (f'rid={peer.rid} provider={peer.uri} bindmethod=simple binddn="{self.replicator_dn}" '
                f'credentials={self.replicator_password} searchbase="{self.base_dn}" '
                f'type=refreshAndPersist retry="{RETRY}" timeout=3 network-timeout=3 keepalive=30:3:5')


def peers_of(own_uri: str, uris: Sequence[str]) -> tuple[Peer, ...]:
    """The other providers (the own URI may be in the list: every peer can share one list)."""
    others = [uri for uri in dict.fromkeys(uris) if uri != own_uri]
    for uri in others:
        if not uri.startswith(("ldap://", "ldaps://")) or any(c in uri for c in ' "\n'):
            raise ConfigError(t("slapd.peers: {uri} không phải ldap://máy:cổng",
                                "slapd.peers: {uri} is not ldap://host:port", uri=uri))
    return tuple(Peer(f"{number:03d}", uri) for number, uri in enumerate(others, start=1))


def external_peers(settings: Settings) -> tuple[Peer, ...]:
    """The other providers of an existing server, whose own URI is ldap.uris' first (empty: no replication)."""
    return peers_of(settings.ldap.uris[0], settings.slapd.peers)


def replicator_password_file(settings: Settings) -> Path:
    """An existing server's replicator password: beside the service account's (ldap.bind_password_file)."""
    return settings.resolve(settings.ldap.bind_password_file).parent / REPLICATOR_PASSWORD_FILE


def replicator_access(base_dn: str, replicator: str) -> str:
    """The replication account's rule (slapd.conf syntax): it reads every entry whole, others go on."""
    return f'access to dn.subtree="{base_dn}" by dn.exact="{replicator}" read by * break'


def first_provider(settings: Settings) -> bool:
    """Whether this server (ldap.uris' first) is the one that writes the tree: slapd.peers' first, or unlisted."""
    own, listed = settings.ldap.uris[0], settings.slapd.peers
    return own not in listed or listed[0] == own


def require_copied_secrets(settings: Settings) -> None:
    """On a later slapd.peers server, refuse before anything is written unless the first's password files are here.

    Made anew they would differ from the first server's: its accounts would refuse them, or a prepare
    would rewrite the replicated passwords and lock the first server out.
    """
    if first_provider(settings) or not external_peers(settings):
        return
    files = (settings.ldap.bind_password_file, settings.smtp.bind_password_file)
    paths = [*(settings.resolve(name) for name in files if name), replicator_password_file(settings)]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise ConfigError(t("Chỉ máy chủ đầu tiên của slapd.peers ({first}) tạo mật khẩu; chép thư mục secrets/ "
                            "của nó vào đây (thiếu {missing}), rồi chạy lại",
                            "only the first server of slapd.peers ({first}) makes the passwords; copy its "
                            "secrets/ folder here (missing: {missing}), then run again",
                            first=settings.slapd.peers[0], missing=", ".join(missing)))


def check_server_id(server_id: int) -> int:
    """A serverID slapd accepts (1 to 4095)."""
    if not 1 <= server_id <= MAX_SERVER_ID:
        raise ConfigError(t("slapd.server_id phải từ 1 đến {n}", "slapd.server_id must be 1 to {n}",
                            n=MAX_SERVER_ID))
    return server_id


def cn_config_ldif(replication: Replication, database_dn: str = "olcDatabase={1}mdb,cn=config",
                   module_dn: str = "cn=module{0},cn=config") -> str:
    """LDIF (for ldapmodify -Y EXTERNAL -H ldapi:///) turning an existing server into a provider among peers.

    The replication account itself must exist in the tree (replication.replicator_account), and its
    read rule comes first in the database's olcAccess: both are written by `prepare --external`
    (olcsource.replicator_rules), so `directory check` and a re-run find them where they belong.
    """
    blocks = [_server_id(replication), _module(module_dn), _database(replication, database_dn),
              _overlay(database_dn)]
    return "\n".join(blocks)


def _server_id(replication: Replication) -> str:
    return f"dn: cn=config\nchangetype: modify\nreplace: olcServerID\nolcServerID: {replication.server_id}\n"


def _module(module_dn: str) -> str:
    return f"dn: {module_dn}\nchangetype: modify\nadd: olcModuleLoad\nolcModuleLoad: syncprov\n"


def _database(replication: Replication, database_dn: str) -> str:
    syncrepl = "".join(f"olcSyncrepl: {{{n}}}{replication.syncrepl(peer)}\n"
                       for n, peer in enumerate(replication.peers))
    return (f"dn: {database_dn}\nchangetype: modify\n"
            f"add: olcLimits\nolcLimits: dn.exact=\"{replication.replicator_dn}\" size=unlimited time=unlimited\n-\n"
            "add: olcDbIndex\nolcDbIndex: entryCSN,entryUUID eq\n-\n"
            f"replace: olcSyncrepl\n{syncrepl}-\nreplace: olcMultiProvider\nolcMultiProvider: TRUE\n")


def _overlay(database_dn: str) -> str:
    return (f"dn: olcOverlay=syncprov,{database_dn}\nchangetype: add\nobjectClass: olcOverlayConfig\n"
            f"objectClass: olcSyncProvConfig\nolcOverlay: syncprov\nolcSpCheckpoint: {CHECKPOINT}\n"
            f"olcSpSessionlog: {SESSION_LOG}\n")
