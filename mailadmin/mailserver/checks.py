"""Compatibility checks: choices in the directory or the config that a mail server cannot work with."""

from __future__ import annotations

import ipaddress
from collections import Counter
from urllib.parse import urlsplit

from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mailrouting import MailRoutingStore
from mailadmin.errors import DirectoryError
from mailadmin.i18n import Text, t

# Schemes Dovecot 2.3 verifies itself ({ARGON2} is slapd's name; Dovecot knows ARGON2I/ARGON2ID).
DOVECOT_SCHEMES = frozenset({"SSHA", "SSHA256", "SSHA512", "SHA", "SHA256", "SHA512", "CRYPT", "BLF-CRYPT",
                             "SHA256-CRYPT", "SHA512-CRYPT", "PBKDF2", "ARGON2I", "ARGON2ID", "PLAIN"})


def cleartext_uris(uris: tuple[str, ...], start_tls: bool = False) -> list[Text]:
    """ldap:// to another machine without StartTLS carries users' passwords in clear (auth_bind sends them)."""
    warnings = []
    for uri in () if start_tls else uris:
        parts = urlsplit(uri)
        if parts.scheme == "ldap" and not _loopback(parts.hostname or ""):
            warnings.append(t("{uri} không mã hoá: mật khẩu người dùng đi qua mạng ở dạng rõ; dùng ldaps:// "
                              "hoặc ldap.start_tls",
                              "{uri} is not encrypted: users' passwords cross the network in clear; use ldaps:// "
                              "or ldap.start_tls",
                              uri=uri))
    return warnings


def cleartext_doveadm(url: str) -> list[Text]:
    """http:// to another machine sends the doveadm API key (every doveadm command, mail included) in clear."""
    parts = urlsplit(url)
    if not url or parts.scheme != "http" or _loopback(parts.hostname or ""):
        return []
    return [t("{url} không mã hoá: khóa API doveadm (mở được mọi thư) đi qua mạng ở dạng rõ; dùng https:// hoặc "
              "để Dovecot và mailadmin trên cùng máy (127.0.0.1)",
              "{url} is not encrypted: the doveadm API key (which opens every mailbox) crosses the network in "
              "clear; use https:// or keep Dovecot and mailadmin on one machine (127.0.0.1)", url=url)]


def size_limit(mailserver: DirectoryClient, mailboxes: int) -> list[Text]:
    """Can the mail-server account see every mailbox in one search (Dovecot's user iteration)?"""
    try:
        seen = MailRoutingStore(mailserver).count_mailboxes()
    except DirectoryError:
        return [t("Giới hạn số mục của thư mục cho {dn} nhỏ hơn số hộp thư ({n}): doveadm -A và tính lại quota "
                  "sẽ dừng giữa chừng; thêm `limits dn.exact=\"{dn}\" size=unlimited` vào slapd",
                  "the directory's size limit for {dn} is smaller than the number of mailboxes ({n}): "
                  "doveadm -A and quota recalculation would stop early; add `limits dn.exact=\"{dn}\" "
                  "size=unlimited` to slapd", dn=mailserver.config.bind_dn, n=mailboxes)]
    if seen < mailboxes:
        return [t("Tài khoản {dn} chỉ thấy {seen}/{n} hộp thư: kiểm tra ACL của thư mục",
                  "the account {dn} sees only {seen} of {n} mailboxes: check the directory's ACLs",
                  dn=mailserver.config.bind_dn, seen=seen, n=mailboxes)]
    return []


def reset_flag(mailserver: DirectoryClient, admin: DirectoryClient) -> list[Text]:
    """Dovecot's pass_filter tests pwdReset: an account that may not read it would refuse everyone."""
    try:
        seen = MailRoutingStore(mailserver).count_mailboxes(without_reset=True)
    except DirectoryError:
        return []  # the size limit is warned about on its own
    if seen < MailRoutingStore(admin).count_mailboxes(without_reset=True):
        return [t("Tài khoản {dn} không đọc được pwdReset của mọi hộp thư: Dovecot sẽ từ chối cả người đã đổi mật "
                  "khẩu; thêm pwdReset vào ACL của tài khoản máy chủ thư (docs/mail-servers.md)",
                  "the account {dn} cannot read every mailbox's pwdReset: Dovecot would refuse people who did "
                  "change their password; add pwdReset to the mail-server account's ACL (docs/mail-servers.md)",
                  dn=mailserver.config.bind_dn)]
    return []


def password_lookup(schemes: Counter[str], mailserver_reads_hashes: bool) -> list[Text]:
    """Without auth_bind Dovecot must read and verify hashes itself: which logins would fail."""
    warnings = []
    if not mailserver_reads_hashes:
        warnings.append(t("auth_bind = no nhưng tài khoản máy chủ thư không được đọc userPassword (đúng như ACL "
                          "muốn): không ai đăng nhập được; giữ auth_bind = yes",
                          "auth_bind = no but the mail-server account may not read userPassword (as the ACLs "
                          "intend): nobody could log in; keep auth_bind = yes"))
    for scheme, count in sorted(schemes.items()):
        if scheme not in DOVECOT_SCHEMES:
            warnings.append(t("{n} hộp thư có mật khẩu dạng {{{scheme}}} mà Dovecot không kiểm tra được nếu "
                              "không có auth_bind", "{n} mailboxes have {{{scheme}}} passwords, which Dovecot "
                              "cannot verify without auth_bind", n=count, scheme=scheme))
    return warnings


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
