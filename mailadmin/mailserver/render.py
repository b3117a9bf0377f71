"""Render the jinja2 templates in templates/mailserver/ for Postfix or Dovecot."""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from mailadmin.errors import InvalidInput
from mailadmin.i18n import t
from mailadmin.resources import project_path
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.services.mailstore import default_key_file
from mailadmin.settings import Settings
from mailadmin.smtp.config import mailserver_bind, mailserver_directory, smtp_config

REDACTED = "(secret: see {path})"
FILES = {
    "postfix": ("main.cf", "ldap-virtual-mailbox-maps.cf", "ldap-virtual-alias-maps.cf",
                "ldap-virtual-list-maps.cf", "ldap-sender-login-maps.cf"),
    "dovecot": ("10-mailadmin.conf", "dovecot-ldap.conf.ext"),
}


@dataclass(frozen=True)
class MailserverContext:
    """Every value the templates use."""

    generated_by: str
    uris: tuple[str, ...]
    bind_dn: str
    bind_password: str
    base_dn: str
    domain: str
    spool: str
    directory: str
    ldap_conf: str
    default_quota_mib: int
    max_message_bytes: int
    mail_user: str
    mail_group: str
    mail_uid: int
    mail_gid: int
    auth_bind: bool
    ca_file: str = ""  # ldap.ca_file: the CAs the mail servers trust for the directory ("": the system's)
    start_tls: bool = False  # ldap.start_tls: StartTLS on ldap:// URIs
    doveadm_api_key: str = ""  # mailstore.doveadm_url set: the doveadm HTTP listener mailadmin asks for quota use
    doveadm_address: str = ""
    doveadm_port: int = 0
    doveadm_tls: bool = False
    old_domains: tuple[str, ...] = ()  # organisation.old_domains: still delivered after a reorganisation


def build_context(settings: Settings, directory: Path, mail_user: str, *, redact: bool,
                  auth_bind: bool = True) -> MailserverContext:
    """The values for `directory` (where the files will live) from the running configuration."""
    try:
        account = pwd.getpwnam(mail_user)
    except KeyError as exc:
        raise InvalidInput(t("Không có người dùng hệ thống {user} (người sở hữu các hộp thư)",
                             "no system user {user} (the owner of the mail folders)", user=mail_user)) from exc
    ldap = mailserver_directory(settings)
    password_path = mailserver_bind(settings)[1]
    return MailserverContext(
        generated_by=", ".join(settings.source), uris=ldap.uris, bind_dn=ldap.bind_dn,
        bind_password=REDACTED.format(path=password_path) if redact else ldap.password,
        base_dn=ldap.base_dn, domain=settings.organisation.mail_domain,
        spool=str(smtp_config(settings).spool), directory=str(directory),
        ldap_conf=str(directory / "dovecot-ldap.conf.ext"),
        default_quota_mib=settings.mailboxes.default_quota_mib,
        max_message_bytes=settings.smtp.max_message_bytes, mail_user=account.pw_name,
        mail_group=_group_name(account.pw_gid), mail_uid=account.pw_uid, mail_gid=account.pw_gid,
        auth_bind=auth_bind, ca_file=ldap.ca_file, start_tls=ldap.start_tls, **doveadm_listener(settings, redact),
        old_domains=settings.organisation.old_domains,
    )


def doveadm_listener(settings: Settings, redact: bool) -> dict[str, Any]:
    """The doveadm HTTP listener and API key for mailstore.doveadm_url (none when it is empty)."""
    url = settings.mailstore.doveadm_url
    if not url:
        return {}
    host, port, tls = _listener_of(url)
    key_file = default_key_file(settings)
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = read_or_create_secret(key_file, 32)
    return {"doveadm_api_key": REDACTED.format(path=key_file) if redact else key,
            "doveadm_address": host, "doveadm_port": port, "doveadm_tls": tls}


def _listener_of(url: str) -> tuple[str, int, bool]:
    """(host, port, TLS) of http(s)://host:port/…; anything else is refused with the expected form."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port:
        raise InvalidInput(t("mailstore.doveadm_url phải có dạng http://máy:cổng/doveadm/v1, không phải {url}",
                             "mailstore.doveadm_url must look like http://host:port/doveadm/v1, not {url}", url=url))
    return parts.hostname, port, parts.scheme == "https"


def render(kind: str, context: MailserverContext) -> dict[str, str]:
    """File name -> text of every file of `kind` (postfix or dovecot)."""
    if kind not in FILES:
        raise InvalidInput(t("Loại máy chủ thư không biết: {kind} (postfix hoặc dovecot)",
                             "unknown mail server: {kind} (postfix or dovecot)", kind=kind))
    environment = Environment(loader=FileSystemLoader(project_path("templates", "mailserver")),
                              undefined=StrictUndefined, keep_trailing_newline=True)
    values = asdict(context)
    return {name: environment.get_template(f"{kind}/{name}.j2").render(**values) for name in FILES[kind]}


def write(files: dict[str, str], directory: Path) -> list[Path]:
    """Write the files (mode 0600: they hold the mail-server account's password)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in files.items():
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    return written


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)
