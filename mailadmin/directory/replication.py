"""Multi-provider replication seen from a client: the replication account and each peer's contextCSN.

A contextCSN value is `YYYYmmddHHMMSS.ffffffZ#count#serverID#mod`: one per server whose changes the
database holds. Two peers have caught up with each other when their sets are equal; how far a peer
lags is the largest difference, per serverID, between our newest change and its.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from ldap3 import BASE, NONE, Connection, Server
from ldap3.core import exceptions as ldap_errors

from mailadmin.directory import dit
from mailadmin.directory.accounts import ensure_account, system_account
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.failover import close_quietly
from mailadmin.errors import DirectoryError
from mailadmin.i18n import t

REPLICATOR_CN = "replicator"
INVALID_CREDENTIALS = 49


def replicator_dn(base_dn: str) -> str:
    """The read-only account the peers' syncrepl binds as."""
    return f"cn={REPLICATOR_CN},ou={dit.SYSTEM_OU},{base_dn}"


def replicator_account(base_dn: str, password: str) -> tuple[str, dict[str, list[str]]]:
    """The replication account's entry (service password policy: never locked out)."""
    return system_account(base_dn, REPLICATOR_CN, "multi-provider replication: reads every entry, writes nothing",
                          password)


def ensure_replicator(admin: DirectoryClient, password: str) -> bool:
    """Create the replication account in a directory made before it existed; True if created."""
    return ensure_account(admin, replicator_account(admin.base_dn, password))


def restart_marker_dn(base_dn: str, server_id: int) -> str:
    """The entry added and deleted again by `advance_context_csn` (never left in the tree)."""
    return f"cn=restart-{server_id},ou={dit.SYSTEM_OU},{base_dn}"


def advance_context_csn(uri: str, bind_dn: str, password: str, base_dn: str, server_id: int) -> None:
    """Make this server's contextCSN newer than every change it holds: one change of its own, undone.

    After an unclean stop syncprov starts from the contextCSN of its last checkpoint (back-mdb says it
    is always clean, so the entryCSN scan that would correct it never runs): entries written since then
    and not yet sent are never offered to a peer whose cookie is as new. The delete's CSN is newer
    than all of them, so each peer's next refresh asks for everything after its cookie (docs/directory.md).
    `uri` is slapd's ldapi:// socket (ldap3's server pool cannot check one: a plain connection).
    """
    dn = restart_marker_dn(base_dn, server_id)
    connection = Connection(Server(uri, get_info=NONE), user=bind_dn, password=password,
                            raise_exceptions=False, auto_referrals=False)
    try:
        done = connection.bind()
        if done:
            connection.delete(dn)  # one left by a start that died between the two writes (else: no such object)
            done = connection.add(dn, ["applicationProcess"], {"cn": f"restart-{server_id}"}) and connection.delete(dn)
        reason = "" if done else str(connection.result.get("description", ""))
    except (ldap_errors.LDAPException, OSError) as exc:
        reason = str(exc)
    finally:
        close_quietly(connection)
    if reason:
        raise DirectoryError(t("Không tăng được contextCSN sau khi slapd dừng đột ngột: {e}",
                               "could not advance the contextCSN after slapd's unclean stop: {e}", e=reason))


@dataclass(frozen=True)
class PeerState:
    """One peer as `directory status` shows it."""

    uri: str
    reachable: bool
    context_csn: tuple[str, ...]
    lag_seconds: float | None

    def as_dict(self) -> dict[str, object]:
        return {"uri": self.uri, "reachable": self.reachable, "context_csn": list(self.context_csn),
                "lag_seconds": self.lag_seconds}


def _peer_connection(uri: str, bind_dn: str, password: str, timeout: int) -> Connection:
    server = Server(uri, connect_timeout=timeout, get_info=NONE)
    return Connection(server, user=bind_dn, password=password, receive_timeout=timeout,
                      raise_exceptions=False, auto_referrals=False)


class PeerTree(Enum):
    """What a peer answers about the tree, asked as one of our accounts."""

    HOLDS = "holds"            # the account binds and reads the base entry: the peer has the tree
    EMPTY = "empty"            # the account binds but there is no base entry
    REFUSED = "refused"        # the peer answers but refuses the password (no such account, or another one)
    UNREACHABLE = "unreachable"


def peer_tree(uri: str, bind_dn: str, password: str, base_dn: str, timeout: int = 3) -> PeerTree:
    """Whether a peer already holds the tree below `base_dn`, bound as `bind_dn` (an account of that tree)."""
    connection = _peer_connection(uri, bind_dn, password, timeout)
    try:
        if not connection.bind():
            return PeerTree.REFUSED if connection.result.get("result") == INVALID_CREDENTIALS else PeerTree.UNREACHABLE
        connection.search(base_dn, "(objectClass=*)", search_scope=BASE, attributes=["1.1"])
        return PeerTree.HOLDS if connection.result["result"] == 0 and connection.response else PeerTree.EMPTY
    except (ldap_errors.LDAPException, OSError):
        return PeerTree.UNREACHABLE
    finally:
        close_quietly(connection)


def read_context_csn(uri: str, bind_dn: str, password: str, base_dn: str,
                     timeout: int = 3) -> tuple[str, ...] | None:
    """The contextCSN values of `base_dn` on one server, sorted; None when it does not answer in time."""
    connection = _peer_connection(uri, bind_dn, password, timeout)
    try:
        if not connection.bind():
            return None
        connection.search(base_dn, "(objectClass=*)", search_scope=BASE,
                          attributes=["contextCSN"])
        if connection.result["result"] != 0 or not connection.response:
            return ()
        values = connection.response[0].get("raw_attributes", {}).get("contextCSN", [])
        return tuple(sorted(value.decode("ascii") for value in values))
    except (ldap_errors.LDAPException, OSError):
        return None
    finally:
        close_quietly(connection)


def csn_times(csns: tuple[str, ...]) -> dict[str, datetime]:
    """serverID -> time of the newest change from that server."""
    return {csn.split("#")[2]: _csn_time(csn) for csn in csns if csn.count("#") == 3}


def _csn_time(csn: str) -> datetime:
    return datetime.strptime(csn.split("#")[0], "%Y%m%d%H%M%S.%fZ").replace(tzinfo=UTC)


def lag_seconds(own: tuple[str, ...], peer: tuple[str, ...]) -> float | None:
    """How far `peer` is behind `own`: the largest per-server gap (0.0: caught up; None: it lacks a server)."""
    mine, theirs = csn_times(own), csn_times(peer)
    if any(server not in theirs for server in mine):
        return None
    gaps = [(mine[server] - theirs[server]).total_seconds() for server in mine]
    return max([0.0, *gaps])


def peer_states(own: tuple[str, ...] | None, peers: tuple[str, ...], bind_dn: str, password: str,
                base_dn: str) -> list[PeerState]:
    """Reachability, contextCSN and lag of every peer, each read with a short timeout."""
    states = []
    for uri in peers:
        csns = read_context_csn(uri, bind_dn, password, base_dn)
        lag = lag_seconds(own, csns) if own is not None and csns is not None else None
        states.append(PeerState(uri, csns is not None, csns or (), lag))
    return states
