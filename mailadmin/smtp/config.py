"""The SMTP service's settings resolved to paths, and the directory account it binds as."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from mailadmin.directory.binder import BindChecker
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.directory.mailrouting import MailRoutingStore, ensure_mailserver_account, mailserver_dn
from mailadmin.errors import ConfigError
from mailadmin.i18n import t
from mailadmin.secretfiles import read_or_create_secret
from mailadmin.services.auth import host_share, login_hosts
from mailadmin.services.notify import service_sender
from mailadmin.settings import Settings
from mailadmin.slapd import PrivateSlapd, SlapdPaths

MAX_WORKERS = 64
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@dataclass(frozen=True)
class SmtpConfig:
    """Everything `mailadmin smtpd` needs, with defaults filled in."""

    host: str
    port: int
    submission_port: int
    hostname: str
    domain: str
    spool: Path
    tls_cert: Path
    tls_key: Path
    self_signed: bool
    plaintext_auth_on_loopback: bool
    max_message_bytes: int
    max_recipients: int
    max_connections_per_client: int
    timeout_seconds: int
    relay_host: str
    relay_port: int
    workers: int = 1
    max_failures: int = 5  # ppolicy's lockout threshold (passwords.max_failures): AUTH throttling stays below it
    lockout_seconds: int = 900  # and its failure-count window (passwords.lockout_seconds)
    throttle_file: Path | None = None  # failed logins counted with the web admin's (None: this process only)
    metrics_port: int = 0  # Prometheus /metrics on host:metrics_port (0: off)
    old_domains: tuple[str, ...] = ()  # former domains still delivered here (organisation.old_domains)
    service_sender: str = ""  # mailadmin's own notifications, sent unauthenticated (a mailbox's address too)...
    # ...but only by clients on these networks (Postfix's mynetworks): where mailadmin itself connects from.
    trusted_networks: tuple[Network, ...] = LOOPBACK

    def is_local(self, address: str) -> bool:
        """Is the address in our domain or a former one still delivered?"""
        domain = address.rpartition("@")[2].lower()
        return domain == self.domain or domain in self.old_domains

    def trusts(self, host: str) -> bool:
        """Is a client at `host` (an IP address) on a trusted network?"""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted_networks)

    @property
    def outbound(self) -> Path:
        """Maildir holding mail for other domains when no relay is configured."""
        return self.spool / ".outbound"


def smtp_config(settings: Settings) -> SmtpConfig:
    """The SMTP service's configuration from the settings."""
    smtp, domain = settings.smtp, settings.organisation.mail_domain
    own_tls = settings.state_dir / "smtp"
    cert = settings.resolve(smtp.tls_cert_file) if smtp.tls_cert_file else own_tls / "tls.crt"
    key = settings.resolve(smtp.tls_key_file) if smtp.tls_key_file else own_tls / "tls.key"
    if not 1 <= smtp.workers <= MAX_WORKERS:
        raise ConfigError(t("smtp.workers phải từ 1 đến {n}", "smtp.workers must be 1 to {n}", n=MAX_WORKERS))
    if bool(smtp.tls_cert_file) != bool(smtp.tls_key_file):
        raise ConfigError(t("smtp.tls_cert_file và smtp.tls_key_file phải cùng được đặt",
                            "smtp.tls_cert_file and smtp.tls_key_file must be set together"))
    return SmtpConfig(
        host=smtp.host, port=smtp.port, submission_port=smtp.submission_port,
        hostname=smtp.hostname or f"mail.{domain}", domain=domain.lower(),
        spool=settings.resolve(smtp.spool_dir) if smtp.spool_dir else settings.state_dir / "mail",
        tls_cert=cert, tls_key=key, self_signed=not smtp.tls_cert_file,
        plaintext_auth_on_loopback=smtp.plaintext_auth_on_loopback == 1,
        max_message_bytes=smtp.max_message_bytes, max_recipients=smtp.max_recipients,
        max_connections_per_client=smtp.max_connections_per_client, timeout_seconds=smtp.timeout_seconds,
        relay_host=smtp.relay_host, relay_port=smtp.relay_port, workers=smtp.workers,
        max_failures=host_share(settings.passwords.max_failures, login_hosts(settings)),
        lockout_seconds=settings.passwords.lockout_seconds,
        throttle_file=settings.state_dir / "throttle" / "logins.sqlite3", metrics_port=smtp.metrics_port,
        old_domains=tuple(d.lower() for d in settings.organisation.old_domains),
        service_sender=service_sender(settings).lower(),
        trusted_networks=trusted_networks(smtp.host) + configured_networks(smtp.trusted_networks),
    )


def configured_networks(networks: tuple[str, ...]) -> tuple[Network, ...]:
    """smtp.trusted_networks as networks; a value that is none is a configuration error."""
    try:
        return tuple(ipaddress.ip_network(network, strict=False) for network in networks)
    except ValueError as exc:
        raise ConfigError(t("smtp.trusted_networks: {e} (cần dạng 10.0.0.0/24)",
                            "smtp.trusted_networks: {e} (expected a form like 10.0.0.0/24)", e=str(exc))) from exc


def trusted_networks(host: str) -> tuple[Network, ...]:
    """Loopback, and the address the service listens on when it is one: mailadmin on the same machine
    connects from there (services/notify.py hands its mail to smtp.host without AUTH)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return LOOPBACK
    if address.is_unspecified or address.is_loopback:
        return LOOPBACK
    return (*LOOPBACK, ipaddress.ip_network(address))


def mailserver_bind(settings: Settings) -> tuple[str, Path]:
    """DN and password file of the read-only mail-server account."""
    if settings.embedded_directory:
        return mailserver_dn(settings.organisation.base_dn), SlapdPaths.of(settings).mailserver_password
    smtp = settings.smtp
    if not smtp.bind_dn or not smtp.bind_password_file:
        raise ConfigError(t("Thư mục ngoài cần smtp.bind_dn và smtp.bind_password_file (tài khoản chỉ đọc)",
                            "an external directory needs smtp.bind_dn and smtp.bind_password_file "
                            "(the read-only account)"))
    return smtp.bind_dn, settings.resolve(smtp.bind_password_file)


def ensure_account(settings: Settings, admin: DirectoryClient) -> bool:
    """In the private directory, create the mail-server account if it predates it; True if created."""
    if not settings.embedded_directory:
        return False
    return ensure_mailserver_account(admin, read_or_create_secret(SlapdPaths.of(settings).mailserver_password))


def mailserver_directory(settings: Settings) -> DirectoryConfig:
    """How the mail servers reach the directory: same servers, read-only account."""
    ldap = settings.ldap
    bind_dn, password_file = mailserver_bind(settings)
    uris = PrivateSlapd(settings).client_uris if settings.embedded_directory else ldap.uris
    if settings.embedded_directory:
        password = read_or_create_secret(password_file)
    else:
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(t("Không đọc được tệp mật khẩu {path}: {e}", "cannot read password file {path}: {e}",
                                path=password_file, e=exc.strerror)) from exc
    return DirectoryConfig(uris=tuple(uris), base_dn=settings.organisation.base_dn, bind_dn=bind_dn,
                           password=password, connect_timeout=ldap.connect_timeout,
                           receive_timeout=ldap.receive_timeout, page_size=ldap.page_size,
                           ca_file=settings.ldap_ca_file, start_tls=ldap.start_tls)


def mail_routing(settings: Settings) -> MailRoutingStore:
    """Lookups and password checks as the read-only mail-server account (bind checks on kept connections)."""
    config = mailserver_directory(settings)
    return MailRoutingStore(DirectoryClient(config), BindChecker(config))
