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


class CommitInDoubt(DirectoryUnavailable):
    """A server stopped answering while it held a transaction's commit: it may still carry it out when it wakes.

    slapd 2.5.13 sends a transaction's writes to its replication peers before it commits them; one that
    wakes to such a commit and then fails (or aborts on the connection the client closed) leaves peers
    with copies they later delete, taking with them the same rows written meanwhile by the resume on
    another server. So a bulk job stops instead of failing over, and resumes once that server answers
    again or no longer accepts connections (docs/directory.md, "a frozen server").
    """

    def __init__(self, message: Text, server: str) -> None:
        super().__init__(message)
        self.server = server


def commit_in_doubt(server: str) -> CommitInDoubt:
    """The job stops: `server` holds a batch's commit unanswered."""
    return CommitInDoubt(t(
        "Máy chủ thư mục {server} ngừng trả lời khi đang giữ lệnh ghi (commit) một lô: chưa biết lô đó đã "
        "được ghi hay chưa. Công việc dừng ở đây; hãy chạy tiếp khi máy chủ đó trả lời lại hoặc đã dừng hẳn",
        "directory server {server} stopped answering while it held a batch's commit: whether the batch was "
        "written is not known. The job stops here; resume it once that server answers again or is stopped",
        server=server), server)


def still_in_doubt(server: str, job: str) -> CommitInDoubt:
    """A resume refused: the server that held a commit still accepts connections and answers nothing."""
    return CommitInDoubt(t(
        "Máy chủ thư mục {server} vẫn nhận kết nối mà không trả lời: lô nó đang giữ vẫn có thể được ghi khi "
        "nó chạy lại. Hãy chạy tiếp công việc {job} khi máy chủ đó trả lời lại hoặc đã dừng hẳn",
        "directory server {server} still accepts connections and answers nothing: the batch it holds may "
        "yet be written when it wakes. Resume job {job} once that server answers again or is stopped",
        server=server, job=job), server)


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
