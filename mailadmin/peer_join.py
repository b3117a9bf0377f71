"""`mailadmin directory join URI`: make this state folder a new replicated peer of a running one.

The new peer needs the first peer's secrets (the service, mail-server, replication and root
passwords, the web session and second-factor keys) and no database of its own: it starts empty and
receives the whole tree by replication, never a skeleton or the unit list of its own.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from mailadmin.directory.replication import csn_times, read_context_csn, replicator_dn
from mailadmin.errors import Conflict, DirectoryUnavailable, InvalidInput
from mailadmin.i18n import t
from mailadmin.settings import Settings
from mailadmin.slapd import PrivateSlapd, SlapdStatus

CATCH_UP_SECONDS = 120


def join(settings: Settings, uri: str, secrets_from: Path | None = None) -> SlapdStatus:
    """Copy the secrets, check the peer answers as the replication account, start, wait until caught up."""
    peers = tuple(dict.fromkeys((*settings.slapd.peers, uri)))
    slapd = PrivateSlapd(dataclasses.replace(settings, slapd=dataclasses.replace(settings.slapd, peers=peers)))
    if slapd.has_database or slapd.running_pid():
        raise Conflict(t("Thư mục trạng thái {state} đã có cơ sở dữ liệu: chỉ thư mục mới tham gia được",
                         "the state folder {state} already holds a database: only a new one can join",
                         state=settings.state_dir))
    if secrets_from is not None:
        copy_secrets(secrets_from, slapd.paths.secrets)
    own_csns = _peer_csns(slapd, uri)
    if f"{settings.slapd.server_id:03x}" in csn_times(own_csns):
        raise Conflict(t("slapd.server_id {n} đã được một máy chủ khác dùng: chọn số khác",
                         "slapd.server_id {n} is already used by another server: choose another",
                         n=settings.slapd.server_id))
    status = slapd.start()
    _wait_for_tree(slapd, uri)
    return status


def copy_secrets(source: Path, target: Path) -> None:
    """Every file of the first peer's secrets folder, mode 0600 in a 0700 folder."""
    if not (source / "ldap-replicator.password").is_file():
        raise InvalidInput(t("{path} không phải thư mục secrets/ của máy chủ ngang hàng "
                             "(thiếu ldap-replicator.password)",
                             "{path} is not the secrets/ folder of a peer (no ldap-replicator.password)",
                             path=source))
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for item in source.iterdir():
        if item.is_file():
            shutil.copyfile(item, target / item.name)
            (target / item.name).chmod(0o600)


def _peer_csns(slapd: PrivateSlapd, uri: str) -> tuple[str, ...]:
    password_file = slapd.paths.replicator_password
    if not password_file.exists():
        raise InvalidInput(t("Chưa có {path}: chép thư mục secrets/ của máy chủ đầu tiên (--secrets-from)",
                             "{path} is missing: copy the first server's secrets/ folder (--secrets-from)",
                             path=password_file))
    csns = read_context_csn(uri, replicator_dn(slapd.base_dn), password_file.read_text().strip(), slapd.base_dn)
    if csns is None:
        raise DirectoryUnavailable(t("Máy chủ {uri} không trả lời hoặc không nhận mật khẩu sao chép",
                                     "{uri} does not answer or refuses the replication password", uri=uri))
    return csns


def _wait_for_tree(slapd: PrivateSlapd, uri: str) -> None:
    """Until this server's contextCSN equals the peer's: every change of every server has arrived."""
    account, password = replicator_dn(slapd.base_dn), slapd.paths.replicator_password.read_text().strip()
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        theirs = read_context_csn(uri, account, password, slapd.base_dn)
        if theirs and theirs == read_context_csn(slapd.uri, account, password, slapd.base_dn):
            return
        time.sleep(0.2)
    raise DirectoryUnavailable(t("Chưa nhận đủ cây thư mục từ {uri} sau {s} giây: xem `mailadmin directory status`",
                                 "the tree from {uri} has not arrived after {s} s: see `mailadmin directory status`",
                                 uri=uri, s=CATCH_UP_SECONDS))
