"""`mailadmin mailserver-config`: render the files, run the checks, optionally write them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.mailrouting import MailRoutingStore, password_schemes
from mailadmin.i18n import Text
from mailadmin.mailserver import checks
from mailadmin.mailserver.render import build_context, render, write
from mailadmin.settings import Settings
from mailadmin.smtp.config import ensure_account, mailserver_directory

DEFAULT_DIRECTORIES = {"postfix": Path("/etc/postfix"), "dovecot": Path("/etc/dovecot/conf.d")}


@dataclass
class Generated:
    """The rendered files, where they were written (if anywhere) and the warnings."""

    files: dict[str, str]
    written: list[Path] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)


def generate(settings: Settings, admin: DirectoryClient, kind: str, out: Path | None, *,
             mail_user: str = "vmail", auth_bind: bool = True) -> Generated:
    """Render `kind`'s files for `out` (stdout: secrets redacted), write them there, check compatibility."""
    target = out.resolve() if out else DEFAULT_DIRECTORIES.get(kind, Path("."))
    context = build_context(settings, target, mail_user, redact=out is None, auth_bind=auth_bind)
    result = Generated(render(kind, context))
    result.warnings = compatibility(settings, admin, kind, auth_bind)
    if out is not None:
        result.written = write(result.files, target)
    return result


def compatibility(settings: Settings, admin: DirectoryClient, kind: str, auth_bind: bool) -> list[Text]:
    """Every warning for this configuration and directory."""
    ensure_account(settings, admin)
    mailserver = DirectoryClient(mailserver_directory(settings))
    try:
        routing = MailRoutingStore(mailserver)
        total = MailRoutingStore(admin).count_mailboxes()
        warnings = checks.cleartext_uris(mailserver.config.uris, mailserver.config.start_tls)
        warnings += checks.size_limit(mailserver, total)
        if kind == "dovecot":
            warnings += checks.reset_flag(mailserver, admin)
            warnings += checks.cleartext_doveadm(settings.mailstore.doveadm_url)
        if kind == "dovecot" and not auth_bind:
            warnings += checks.password_lookup(password_schemes(admin), routing.reads_password_hashes())
        return warnings
    finally:
        mailserver.close()
