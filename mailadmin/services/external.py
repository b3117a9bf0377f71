"""An existing cn=config OpenLDAP made ready for mailadmin: what it lacks, as changes, then written.

The wanted state comes from the private slapd's own template (mailadmin/olcsource.py); the live
state is read through the local socket as root. Each item compares one aspect and yields the
changes that would fix it: an empty list means it is in place, so a second run writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mailadmin.directory import dit, filters
from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mailrouting import IS_MAILBOX, mailserver_dn
from mailadmin.directory.olc import Attributes, Change, ConfigConnection
from mailadmin.directory.replication import PeerTree, peer_tree, replicator_account, replicator_dn
from mailadmin.errors import ConfigError, MailadminError
from mailadmin.i18n import Text, t
from mailadmin.olcsource import PROJECT_SCHEMA, SCHEMA_PARENT, WantedConfig, unordered, wanted_config
from mailadmin.passwords import hash_generated
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.settings import Settings
from mailadmin.slapd import skeleton_entries
from mailadmin.slapd_peers import external_peers, first_provider, replicator_password_file, require_copied_secrets

CONFIG = "cn=config"
MONITOR_OPERATIONS = "cn=Operations,cn=Monitor"
_NAME = re.compile(r"NAME\s+\(?\s*'([^']+)'")
Operations = tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Item:
    """One aspect of the server: what is missing (empty when in place) and the changes that fix it."""

    key: str
    vi: str
    en: str
    missing: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, object]:
        """For `--json`."""
        return {"item": self.key, "ok": self.ok, "vi": self.vi, "en": self.en, "missing": list(self.missing)}


@dataclass(frozen=True)
class LiveConfig:
    """What the server runs now: every entry below cn=config, and the mailadmin database's DN."""

    entries: dict[str, Attributes]
    database: str

    def values(self, dn: str, name: str) -> list[str]:
        """The values of one attribute (any case) of one entry."""
        attributes = self.entries.get(dn, {})
        return next((values for key, values in attributes.items() if key.lower() == name.lower()), [])

    def children(self, parent: str) -> dict[str, str]:
        """Name (without `{N}`) -> DN of the entries just below `parent` (schemas, overlays)."""
        found = {}
        for dn in self.entries:
            rdn, _, rest = dn.partition(",")
            if rest.lower() == parent.lower():
                found[unordered(rdn.split("=", 1)[1]).lower()] = dn
        return found

    def database_of_kind(self, kind: str) -> str | None:
        """The DN of the first database of this backend (`monitor`), if any."""
        return next((dn for dn in self.entries if dn.lower().startswith("olcdatabase=")
                     and unordered(self.values(dn, "olcDatabase")[0]).lower() == kind), None)


def read_live(connection: ConfigConnection, base_dn: str) -> LiveConfig:
    """Read cn=config and find the database whose suffix is mailadmin's base DN."""
    entries = connection.entries(CONFIG)
    for dn, attributes in entries.items():
        if any(_dn_key(suffix) == _dn_key(base_dn) for suffix in attributes.get("olcSuffix", [])):
            return LiveConfig(entries, dn)
    raise ConfigError(t(
        "Máy chủ không có cơ sở dữ liệu nào có hậu tố {base} (organisation.base_dn); tạo nó trước",
        "the server has no database whose suffix is {base} (organisation.base_dn); create it first",
        base=base_dn))


def config_items(wanted: WantedConfig, live: LiveConfig) -> list[Item]:
    """Modules, schema, indexes, limits, access rules, overlays and Monitor, in the order they must be written."""
    return [plan(live) for plan in (
        lambda live: _modules(wanted, live), lambda live: _schemas(wanted, live),
        lambda live: _indexes(wanted, live), lambda live: _limits(wanted, live),
        lambda live: _access(wanted, live), lambda live: _overlays(wanted, live),
        lambda live: _monitor(wanted, live))]


def _item(key: str, vi: str, en: str, changes: Iterable[tuple[str, Change]]) -> Item:
    pairs = list(changes)
    return Item(key, vi, en, tuple(what for what, _ in pairs), tuple(change for _, change in pairs))


def _modules(wanted: WantedConfig, live: LiveConfig) -> Item:
    lists = sorted(dn for dn in live.entries if dn.lower().startswith("cn=module"))
    loaded = {unordered(value).removesuffix(".la") for dn in lists for value in live.values(dn, "olcModuleLoad")}
    missing = tuple(module for module in wanted.modules if module not in loaded)
    change = (Change(lists[0], (("add", "olcModuleLoad", missing),)) if lists else
              Change("cn=module,cn=config", entry={"objectClass": ["olcModuleList"], "cn": ["module"],
                                                   "olcModulePath": [wanted.module_path],
                                                   "olcModuleLoad": list(missing)}))
    return _item("modules", "Mô-đun (moduleload)", "Modules (moduleload)",
                 [(", ".join(missing), change)] if missing else [])


def _schema_key(name: str, value: str) -> str:
    value = unordered(value)
    if name == "olcObjectIdentifier":
        return value.split()[0].lower()
    match = _NAME.search(value)
    return (match.group(1) if match else value).lower()


def _schema_change(live: LiveConfig, name: str, attributes: Attributes) -> tuple[str, Change] | None:
    dn = live.children(SCHEMA_PARENT).get(name.lower())
    if dn is None:
        return name, Change(f"cn={name},{SCHEMA_PARENT}", entry={"objectClass": ["olcSchemaConfig"], "cn": [name],
                                                                 **attributes})
    operations = [operation for attribute, values in attributes.items()
                  for operation in _schema_operations(attribute, live.values(dn, attribute), values,
                                                      rewrite=name == PROJECT_SCHEMA)]
    changed = sorted({_schema_key(op[1], value) for op in operations if op[0] == "add" for value in op[2]})
    return (f"{name}: {', '.join(changed)}", Change(dn, tuple(operations))) if operations else None


def _schema_operations(attribute: str, present: list[str], wanted: list[str], *, rewrite: bool) -> Operations:
    """Add the elements the server lacks; with `rewrite`, replace those whose definition changed (an upgrade)."""
    current = {_schema_key(attribute, value): value for value in present}
    operations: list[tuple[str, str, tuple[str, ...]]] = []
    for value in wanted:
        old = current.get(_schema_key(attribute, value))
        if old is None:
            operations.append(("add", attribute, (unordered(value),)))
        elif rewrite and _key(old) != _key(value):  # slapd 2.5 takes a delete and an add of one element
            position = old[:len(old) - len(unordered(old))]
            operations += [("delete", attribute, (old,)), ("add", attribute, (position + unordered(value),))]
    return tuple(operations)


def _schemas(wanted: WantedConfig, live: LiveConfig) -> Item:
    changes = [_schema_change(live, name, attributes) for name, attributes in wanted.schemas]
    return _item("schema", "Lược đồ (misc, mailadmin…)", "Schema (misc, mailadmin…)",
                 [change for change in changes if change is not None])


def _index_map(values: Iterable[str]) -> dict[str, tuple[str, set[str]]]:
    """Lower-case attribute -> (the olcDbIndex value naming it, its index types)."""
    found: dict[str, tuple[str, set[str]]] = {}
    for value in values:
        attributes, _, kinds = value.partition(" ")
        for attribute in attributes.split(","):
            found[attribute.lower()] = (value, {kind.strip().lower() for kind in kinds.split(",") if kind.strip()})
    return found


def _indexes(wanted: WantedConfig, live: LiveConfig) -> Item:
    current = _index_map(live.values(live.database, "olcDbIndex"))
    deletes: list[str] = []
    adds: dict[str, set[str]] = {}
    for attribute, (_, kinds) in _index_map(wanted.indexes).items():
        value, present = current.get(attribute, ("", set()))
        if kinds <= present:
            continue
        if value and value not in deletes:
            deletes.append(value)  # re-added below, one value per attribute, with the union of types
            for other, (same, types) in current.items():
                if same == value:
                    adds.setdefault(other, set()).update(types)
        adds.setdefault(attribute, set()).update(kinds)
    names = {a.lower(): a for v in (*wanted.indexes, *deletes) for a in v.split(" ")[0].split(",")}
    values = tuple(f"{names[a]} {','.join(sorted(kinds))}" for a, kinds in adds.items())
    operations = ((("delete", "olcDbIndex", tuple(deletes)),) if deletes else ()) + (("add", "olcDbIndex", values),)
    return _item("indexes", "Chỉ mục (xây trực tuyến)", "Indexes (built online)",
                 [(", ".join(values), Change(live.database, operations))] if values else [])


def _key(rule: str) -> str:
    return " ".join(unordered(rule).split()).lower()


def _limits(wanted: WantedConfig, live: LiveConfig) -> Item:
    present = {_key(value) for value in live.values(live.database, "olcLimits")}
    missing = tuple(value for value in wanted.limits if _key(value) not in present)
    return _item("limits", "Giới hạn (sizelimit) của tài khoản dịch vụ", "Limits (size) of the service accounts",
                 [(", ".join(missing), Change(live.database, (("add", "olcLimits", missing),)))] if missing else [])


def merged_access(ours: tuple[str, ...], current: list[str]) -> tuple[list[str], list[str]]:
    """Our rules first, then the existing ones that are not ours; and those existing ones."""
    seen = {_key(rule) for rule in ours}
    others = []
    for rule in current:
        if _key(rule) not in seen:  # a rule written twice is kept once (slapd refuses equal values)
            seen.add(_key(rule))
            others.append(unordered(rule))
    return [*ours, *others], others


def _access_change(dn: str, ours: tuple[str, ...], current: list[str]) -> list[tuple[str, Change]]:
    if [_key(rule) for rule in current[:len(ours)]] == [_key(rule) for rule in ours]:
        return []
    rules, _ = merged_access(ours, current)
    return [(f"{dn}: {len(ours)} olcAccess", Change(dn, (("replace", "olcAccess", tuple(rules)),)))]


def _access(wanted: WantedConfig, live: LiveConfig) -> Item:
    return _item("access", "Quyền truy cập (olcAccess)", "Access rules (olcAccess)",
                 _access_change(live.database, wanted.access, live.values(live.database, "olcAccess")))


def _overlay_operations(live: LiveConfig, dn: str, attributes: Attributes) -> Operations:
    operations = []
    for name, values in attributes.items():
        current = live.values(dn, name)
        missing = tuple(v for v in values if _key(v) not in {_key(c) for c in current})
        if missing and name != "objectClass":
            single = len(current) == 1 and len(values) == 1
            operations.append(("replace" if single else "add", name, missing))
    return tuple(operations)


def _overlays(wanted: WantedConfig, live: LiveConfig) -> Item:
    existing = live.children(live.database)
    changes: list[tuple[str, Change]] = []
    for name, attributes in wanted.overlays:
        dn = existing.get(name.lower())
        if dn is None:
            changes.append((name, Change(f"olcOverlay={name},{live.database}",
                                         entry={"olcOverlay": [name], **attributes})))
        elif operations := _overlay_operations(live, dn, attributes):
            changes.append((f"{name}: {', '.join(op[1] for op in operations)}", Change(dn, operations)))
    return _item("overlays", "Lớp phủ (ppolicy, unique, memberof, refint, lastbind, sssvlv)",
                 "Overlays (ppolicy, unique, memberof, refint, lastbind, sssvlv)", changes)


def _monitor(wanted: WantedConfig, live: LiveConfig) -> Item:
    dn = live.database_of_kind("monitor")
    if dn is None:
        entry = {"objectClass": ["olcDatabaseConfig"], "olcDatabase": ["monitor"],
                 "olcAccess": list(wanted.monitor_access)}
        changes = [("cn=Monitor", Change("olcDatabase=monitor,cn=config", entry=entry))]
    else:
        changes = _access_change(dn, wanted.monitor_access, live.values(dn, "olcAccess"))
    return _item("monitor", "Cơ sở dữ liệu Monitor cho tài khoản dịch vụ", "Monitor database for the service account",
                 changes)


def shadowed_rules(wanted: WantedConfig, live: LiveConfig) -> list[str]:
    """Existing access rules of the database that mailadmin's rules will come before (other applications')."""
    return merged_access(wanted.access, live.values(live.database, "olcAccess"))[1]


def data_items(connection: ConfigConnection, entries: list[tuple[str, dict]],
               passwords: dict[str, str]) -> list[Item]:
    """The base entry, ou=system, ou=policies and its policies, the service and mail-server accounts."""
    accounts = [(dn, attrs) for dn, attrs in entries if dn in passwords]
    others = [(dn, attrs) for dn, attrs in entries if dn not in passwords]
    missing_entries = [(dn, Change(dn, entry=attrs)) for dn, attrs in others if not connection.exists(dn)]
    account_changes = [change for dn, attrs in accounts
                       if (change := _account_change(connection, dn, attrs, passwords[dn])) is not None]
    return [_item("entries", "Mục gốc, ou=system, ou=policies và chính sách mật khẩu",
                  "Base entry, ou=system, ou=policies and password policies", missing_entries),
            _item("accounts", "Tài khoản dịch vụ, máy chủ thư (và nhân bản khi có slapd.peers)",
                  "Service and mail-server accounts (and the replicator with slapd.peers)",
                  account_changes)]


def _account_change(connection: ConfigConnection, dn: str, attributes: dict,
                    password: str) -> tuple[str, Change] | None:
    if not connection.exists(dn):
        return dn, Change(dn, entry=attributes)
    if connection.can_bind(dn, password):
        return None
    return (t("{dn}: mật khẩu khác tệp mật khẩu", "{dn}: password differs from the password file", dn=dn).both(),
            Change(dn, (("replace", "userPassword", (hash_generated(password),)),)))


def apply(connection: ConfigConnection, items: list[Item], report: Callable[[Item], None]) -> int:
    """Write every change of every item in order; the number of changes written."""
    written = 0
    for item in items:
        for change in item.changes:
            connection.apply(change)
            written += 1
        report(item)
    return written


def _dn_key(dn: str) -> str:
    return ",".join(part.strip() for part in dn.split(",")).lower()


def account_passwords(settings: Settings) -> dict[str, str]:
    """DN -> password of the service and mail-server accounts (and the replicator with slapd.peers),
    from their password files (made if absent)."""
    base = settings.organisation.base_dn
    accounts = {dit.service_dn(base): ("ldap.bind_dn", settings.ldap.bind_dn, settings.ldap.bind_password_file),
                mailserver_dn(base): ("smtp.bind_dn", settings.smtp.bind_dn, settings.smtp.bind_password_file)}
    passwords = {}
    for dn, (key, configured, path) in accounts.items():
        if _dn_key(configured) != _dn_key(dn) or not path:
            raise ConfigError(t("Thư mục ngoài cần {key}: {dn} và tệp mật khẩu của nó",
                                "an external directory needs {key}: {dn} and its password file", key=key, dn=dn))
        passwords[dn] = _secret(settings.resolve(path))
    if external_peers(settings):
        passwords[replicator_dn(base)] = _secret(replicator_password_file(settings))
    return passwords


def _secret(path: Path) -> str:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return read_or_create_secret(path)


def _entries(settings: Settings, passwords: dict[str, str]) -> list[tuple[str, dict]]:
    """The skeleton's entries, and the replication account's when slapd.peers names other providers."""
    base = settings.organisation.base_dn
    entries = skeleton_entries(settings, passwords[dit.service_dn(base)], passwords[mailserver_dn(base)])
    if replicator_dn(base) in passwords:
        entries.append(replicator_account(base, passwords[replicator_dn(base)]))
    return entries


@dataclass(frozen=True)
class Plan:
    """Every item of a prepare or check run, and the existing access rules ours will precede."""

    items: list[Item]
    shadowed: list[str]

    @property
    def changes(self) -> list[Change]:
        return [change for item in self.items for change in item.changes]


def plan_external(settings: Settings, connection: ConfigConnection) -> Plan:
    """What the server behind `connection` lacks for mailadmin, and how to fix it."""
    wanted = wanted_config(settings)
    live = read_live(connection, settings.organisation.base_dn)
    require_copied_secrets(settings)  # before account_passwords makes any password file
    passwords = account_passwords(settings)
    source = tree_source(settings, connection, passwords)
    data = replicated_items(source) if source else data_items(connection, _entries(settings, passwords), passwords)
    return Plan(config_items(wanted, live) + data, shadowed_rules(wanted, live))


def tree_source(settings: Settings, connection: ConfigConnection, passwords: dict[str, str]) -> str | None:
    """The peer this server receives its tree from by replication; None when it has or writes its own.

    Only one provider writes the tree (base entry, ou=system, ou=policies, the accounts): a provider that
    joins it starts with an empty database and gets every entry, entryUUID included, from syncrepl's first
    refresh, as OpenLDAP's admin guide fills a new replica (or from the first's slapcat). Written on both,
    the same DNs carry two entryUUIDs that replication never reconciles (measured: still apart after 30 s).
    """
    base, service = settings.organisation.base_dn, dit.service_dn(settings.organisation.base_dn)
    peers = [peer.uri for peer in external_peers(settings)]
    if not peers or connection.exists(service):
        return None
    answers = {uri: peer_tree(uri, service, passwords[service], base) for uri in peers}
    holder = next((uri for uri, answer in answers.items() if answer is PeerTree.HOLDS), None)
    if holder is None and not first_provider(settings):
        raise ConfigError(_no_source(settings, answers))
    if holder is not None and connection.exists(base):
        raise ConfigError(t("{base} đã có trên máy này (do gói slapd tạo?) nhưng chưa có cây của mailadmin; máy "
                            "nhận cây từ {peer} phải bắt đầu trống: xóa nó (ldapdelete -Y EXTERNAL -H ldapi:/// "
                            "'{base}') hoặc nạp slapcat của {peer}, rồi chạy lại",
                            "{base} exists on this server (made by the slapd package?) without mailadmin's tree; "
                            "a server receiving the tree from {peer} must start empty: delete it (ldapdelete -Y "
                            "EXTERNAL -H ldapi:/// '{base}') or load {peer}'s slapcat, then run again",
                            base=base, peer=holder))
    return holder


_ANSWERS = {PeerTree.EMPTY: ("chưa có cây", "has no tree"),
            PeerTree.REFUSED: ("từ chối mật khẩu tài khoản dịch vụ", "refuses the service account's password"),
            PeerTree.UNREACHABLE: ("không trả lời", "does not answer")}


def _no_source(settings: Settings, answers: dict[str, PeerTree]) -> Text:
    said_vi = "; ".join(f"{uri}: {_ANSWERS[answer][0]}" for uri, answer in answers.items())
    said_en = "; ".join(f"{uri}: {_ANSWERS[answer][1]}" for uri, answer in answers.items())
    return t("Chỉ máy chủ đầu tiên của slapd.peers ({first}) tạo cây thư mục; máy này trống và nhận cây qua nhân "
             "bản, nhưng chưa máy nào cho biết đã có cây ({said}). Chuẩn bị máy đầu tiên trước, chép các tệp mật "
             "khẩu của nó (ldap.bind_password_file, smtp.bind_password_file, ldap-replicator.password) vào đây, "
             "rồi chạy lại",
             "only the first server of slapd.peers ({first}) writes the tree; this empty server receives it by "
             "replication, but no peer says it holds the tree ({said_en}). Prepare the first server first, copy "
             "its password files (ldap.bind_password_file, smtp.bind_password_file, ldap-replicator.password) "
             "here, then run again", first=settings.slapd.peers[0], said=said_vi, said_en=said_en)


def replicated_items(source: str) -> list[Item]:
    """The data of an empty provider whose tree arrives from `source` by replication: nothing to write."""
    return [Item("entries", f"Mục gốc, ou=system, ou=policies và các tài khoản: nhận qua nhân bản từ {source}",
                 f"Base entry, ou=system, ou=policies and the accounts: arrive by replication from {source}")]


PRIVATE_ATTRIBUTES = ("employeeNumber", "maRole", "maAdminOf", "maTotpSecret", "maRecoveryCode", "maApiToken",
                      "userPassword")


def live_items(service: DirectoryClient, mailserver: DirectoryClient) -> list[Item]:
    """The rules tried for real: what the mail-server account reads and what the service account reads."""
    return [_tried("mailserver-reads", "Tài khoản máy chủ thư đọc được định tuyến, không đọc mã nhân sự/vai trò",
                   "Mail-server account reads routing, not HR ids or roles",
                   lambda: _mailserver_problems(service, mailserver)),
            _tried("monitor-reads", "Tài khoản dịch vụ đọc được cn=Monitor", "Service account reads cn=Monitor",
                   lambda: _monitor_problems(service))]


def _tried(key: str, vi: str, en: str, attempt: Callable[[], list[str]]) -> Item:
    try:
        problems = attempt()
    except MailadminError as exc:
        problems = [exc.message.both()]
    return Item(key, vi, en, tuple(problems))


def _mailserver_problems(service: DirectoryClient, mailserver: DirectoryClient) -> list[str]:
    mailserver.search(mailserver.base_dn, IS_MAILBOX, attributes=["1.1"], size_limit=1)  # 32: no base-entry rule
    samples = [*service.search(service.base_dn, filters.all_of(IS_MAILBOX, filters.present("employeeNumber")),
                               attributes=["1.1"], size_limit=1),
               *service.search(service.base_dn, filters.present("maRole"), attributes=["1.1"], size_limit=1)]
    problems = []
    for sample in samples:
        seen = mailserver.get(sample.dn, ["mail", *PRIVATE_ATTRIBUTES])
        problems += [f"{sample.dn}: {name}" for name in PRIVATE_ATTRIBUTES if seen is not None and seen.raw(name)]
    if samples and mailserver.get(samples[0].dn, ["mail"]) is None:
        problems.append(t("không đọc được {dn}", "cannot read {dn}", dn=samples[0].dn).both())
    return problems


def _monitor_problems(service: DirectoryClient) -> list[str]:
    if service.get(MONITOR_OPERATIONS, ["monitorOpCompleted"]) is None:
        return [MONITOR_OPERATIONS]
    return []
