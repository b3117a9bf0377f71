"""Wiring: settings -> directory client -> services, for the web app, the CLI and the SMTP service."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from mailadmin.audit import AuditLog
from mailadmin.directory import dit
from mailadmin.directory.api_tokens import ApiTokenStore
from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.directory.groups import GroupStore
from mailadmin.directory.roles import RoleStore
from mailadmin.directory.second_factor import SecondFactorStore
from mailadmin.errors import ConfigError, DirectoryUnavailable
from mailadmin.i18n import t
from mailadmin.importer.bulk import BulkService
from mailadmin.importer.reorg import ReorgService
from mailadmin.importer.service import ImportService
from mailadmin.services.auth import LoginService, admin_logins, throttle_file
from mailadmin.services.authz import Principal
from mailadmin.services.certificates import CertificateService
from mailadmin.services.client_certs import CertificateSignIn
from mailadmin.services.dashboard import DashboardService
from mailadmin.services.lists import ListService
from mailadmin.services.mailboxes import MailboxService
from mailadmin.services.mailstore import MailStore
from mailadmin.services.notify import MailNotifier
from mailadmin.services.roles import RoleService
from mailadmin.services.second_factor import SecondFactorService, SecretBox, policy_roles
from mailadmin.services.tokens import TokenService, mention_leftover_file
from mailadmin.services.unitadmin import UnitAdminService
from mailadmin.services.units import UnitService
from mailadmin.settings import Settings, load_settings
from mailadmin.slapd import PrivateSlapd, SlapdPaths


def directory_config(settings: Settings) -> DirectoryConfig:
    """The private slapd of the state folder, unless the config names external servers."""
    ldap = settings.ldap
    base = settings.organisation.base_dn
    uris: tuple[str, ...]
    password_file: Path | None
    if settings.embedded_directory:
        uris = PrivateSlapd(settings).client_uris  # this server first, then its replicated peers
        bind_dn = dit.service_dn(base)
        password_file = SlapdPaths.of(settings).service_password
        if not password_file.exists():
            raise DirectoryUnavailable(t(
                "Thư mục riêng chưa được tạo trong {state}: chạy `mailadmin directory start`",
                "the private directory does not exist in {state} yet: run `mailadmin directory start`",
                state=settings.state_dir))
    else:
        uris, bind_dn = ldap.uris, ldap.bind_dn
        password_file = settings.resolve(ldap.bind_password_file) if ldap.bind_password_file else None
        if not bind_dn or password_file is None:
            raise ConfigError(t("ldap.uris cần ldap.bind_dn và ldap.bind_password_file",
                                "ldap.uris needs ldap.bind_dn and ldap.bind_password_file"))
    return DirectoryConfig(uris=tuple(uris), base_dn=base, bind_dn=bind_dn,
                           password=_read_secret(password_file),
                           connect_timeout=ldap.connect_timeout,
                           receive_timeout=ldap.receive_timeout, page_size=ldap.page_size,
                           kept_lists=ldap.kept_lists, kept_list_seconds=ldap.kept_list_seconds,
                           ca_file=settings.ldap_ca_file, start_tls=ldap.start_tls)


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(t("Không đọc được tệp mật khẩu {path}: {e}", "cannot read password file {path}: {e}",
                            path=path, e=exc.strerror)) from exc


class Services:
    """Every use case, sharing one directory client."""

    def __init__(self, settings: Settings, client: DirectoryClient | None = None) -> None:
        self.settings = settings
        self._client = client
        self.login_throttle_path: Path | None = throttle_file(settings)  # None: counted in this process only

    @cached_property
    def client(self) -> DirectoryClient:
        return self._client or DirectoryClient(directory_config(self.settings))

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.state_dir / "audit" / "audit.jsonl")

    @cached_property
    def units(self) -> UnitService:
        return UnitService(self.client, self.audit)

    @cached_property
    def mailboxes(self) -> MailboxService:
        return MailboxService(self.settings, self.client, self.units, self.audit)

    @cached_property
    def mailstore(self) -> MailStore:
        """Quota use as Dovecot reports it (mailstore.doveadm_url; empty: not asked)."""
        return MailStore(self.settings)

    @cached_property
    def certificates(self) -> CertificateService:
        return CertificateService(self.settings, self.client, self.mailboxes, self.units, self.audit)

    @cached_property
    def imports(self) -> ImportService:
        return ImportService(self.settings, self.mailboxes, self.audit,
                             welcome=lambda uid, language: self.notifier.send("welcome", uid, language))

    @cached_property
    def reorg(self) -> ReorgService:
        return ReorgService(self.settings, self.client, self.units, self.audit)

    @cached_property
    def bulk(self) -> BulkService:
        """Bulk actions on mailboxes as journaled, undoable jobs."""
        return BulkService(self.settings, self.client, self.mailboxes, self.audit)

    @cached_property
    def roles(self) -> RoleStore:
        return RoleStore(self.client)

    @cached_property
    def notifier(self) -> MailNotifier:
        return MailNotifier(self.settings, self.mailboxes, self.audit)

    @cached_property
    def dashboard(self) -> DashboardService:
        return DashboardService(self.mailboxes.store, self.units, self.audit)

    @cached_property
    def lists(self) -> ListService:
        return ListService(GroupStore(self.client), self.mailboxes, self.units, self.audit)

    @cached_property
    def logins(self) -> LoginService:
        """The web admin's logins (the service account reads locks, hashes and session epochs)."""
        return admin_logins(self.roles, self.client.config, self.settings, self.login_throttle_path)

    @cached_property
    def second_factor(self) -> SecondFactorService:
        """TOTP enrolment and checks; wrong codes count in the web logins' throttle."""
        box = SecretBox(self.settings.state_dir / "secrets" / "second-factor.key")
        return SecondFactorService(SecondFactorStore(self.client), self.mailboxes, box, self.audit,
                                   self.logins.throttle, policy_roles(self.settings.auth.second_factor_roles))

    @cached_property
    def cert_signin(self) -> CertificateSignIn:
        """Certificate sign-in through the reverse proxy; refusals count in the web logins' throttle."""
        return CertificateSignIn(self.certificates, self.roles, self.logins.throttle, self.audit, self.settings.auth)

    @cached_property
    def tokens(self) -> TokenService:
        """API tokens, kept on their owners' entries (a token file of the former store is only logged)."""
        mention_leftover_file(self.settings.state_dir / "secrets" / "api-tokens.json")
        return TokenService(ApiTokenStore(self.client), self.audit, self._epoch_of, self.mailboxes.authorize_change)

    def _epoch_of(self, uid: str) -> str:
        holder = self.roles.holder(uid)
        return holder.epoch if holder else "\0"

    @cached_property
    def role_changes(self) -> RoleService:
        return RoleService(self.units, self.roles, self.audit)

    @cached_property
    def unit_admin(self) -> UnitAdminService:
        return UnitAdminService(self.units, self.mailboxes.store, self.roles, self.audit)

    def principal(self, uid: str) -> Principal:
        """The person behind a login, with roles and scopes read from the directory."""
        mailbox = self.mailboxes.get(uid)
        roles, scopes = self.roles.get(self.mailboxes.store.find_entry(mailbox.uid).dn)
        return Principal(mailbox.uid, mailbox.name.full, roles, scopes)

    def close(self) -> None:
        """Release directory connections."""
        if "logins" in self.__dict__:
            self.logins.close()
        if "client" in self.__dict__:
            self.client.close()


def open_services(settings: Settings | None = None) -> Services:
    """Services for the current configuration."""
    return Services(settings or load_settings())
