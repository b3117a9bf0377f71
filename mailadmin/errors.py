"""Domain exceptions: every failure a user can see carries a bilingual Text."""

from __future__ import annotations

from mailadmin.i18n import Text, t


class MailadminError(Exception):
    """Base class: a failure with a message fit to show to a person."""

    exit_code = 1

    def __init__(self, message: Text, field: str | None = None) -> None:
        super().__init__(message.render("en"))
        self.message = message
        self.field = field  # the form field or file column at fault, when there is one


class InvalidInput(MailadminError):
    """The caller gave a value that breaks a rule (form field, file cell, CLI argument)."""

    exit_code = 2


class NotFound(MailadminError):
    """The named unit, mailbox or entry does not exist."""

    exit_code = 3


class Conflict(MailadminError):
    """The change clashes with existing data (taken address, duplicate HR id...)."""

    exit_code = 4


class AlreadyExists(Conflict):
    """An entry is already at the DN an add names."""


class PermissionDenied(MailadminError):
    """The directory or a role check refused the operation."""

    exit_code = 5


class DirectoryUnavailable(MailadminError):
    """No directory server answered."""

    exit_code = 6


class DirectoryError(MailadminError):
    """The directory answered with an error we do not map to anything more precise."""

    exit_code = 7


class ConfigError(MailadminError):
    """The configuration file or environment holds an unusable value."""

    exit_code = 8


def unreachable(uris: str, reason: str) -> DirectoryUnavailable:
    """The standard 'directory unreachable' error."""
    return DirectoryUnavailable(
        t(
            "Không kết nối được thư mục LDAP tại {uris}: {reason}",
            "directory unreachable at {uris}: {reason}",
            uris=uris,
            reason=reason,
        )
    )
