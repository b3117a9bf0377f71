"""Backups of an installation: the directory as LDIF, the secrets, the import journals, the audit log.

A backup is one tar.gz, mode 0600 (it holds password hashes and the service secrets):
  manifest.json          format, base DN, source (private | external), entry count, time
  data.ldif              private directory: slapcat, one read transaction while slapd serves, with the
                         operational attributes (slapadd restores pwdReset, lockouts and entryUUIDs as
                         they were); external directory: every entry the service account reads
  secrets/ jobs/ audit/  copied from the state folder
Restore writes nothing until the whole archive is unpacked and checked; the state it replaces is
moved to <state>/before-restore-<time>/ and put back when loading fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from mailadmin.directory.client import DirectoryClient
from mailadmin.directory.ldif import entry_ldif
from mailadmin.errors import Conflict, DirectoryError, InvalidInput, NotFound
from mailadmin.i18n import t
from mailadmin.settings import Settings
from mailadmin.slapd import PrivateSlapd

FORMAT = 1
FOLDERS = ("secrets", "jobs", "audit")
FILES = ("manifest.json", "data.ldif")


@dataclass(frozen=True)
class BackupReport:
    """What a backup or restore wrote."""

    path: Path
    source: str
    entries: int
    base_dn: str

    def as_dict(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"path": str(self.path), "source": self.source, "entries": self.entries, "base_dn": self.base_dn}


def backup(settings: Settings, output: Path, client: DirectoryClient | None = None) -> BackupReport:
    """Write a backup of the directory and the state folder's secrets, journals and audit log."""
    with tempfile.TemporaryDirectory(prefix="mailadmin-backup-") as work:
        ldif = Path(work) / "data.ldif"
        source = _export(settings, ldif, client)
        report = BackupReport(output, source, _count_entries(ldif), settings.organisation.base_dn)
        manifest = Path(work) / "manifest.json"
        manifest.write_text(json.dumps(_manifest(report), indent=2), encoding="utf-8")
        _write_archive(output, [manifest, ldif], settings.state_dir)
    return report


def _export(settings: Settings, ldif: Path, client: DirectoryClient | None) -> str:
    if not settings.embedded_directory:
        if client is None:
            raise AssertionError("an external directory is exported through the service account")
        _export_external(client, ldif)
        return "external"
    slapd = PrivateSlapd(settings)
    if not slapd.has_database:
        raise NotFound(t("Không có thư mục LDAP trong {state}", "there is no directory in {state}",
                         state=settings.state_dir))
    result = subprocess.run(slapd.dump_command(ldif), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DirectoryError(t("slapcat không xuất được dữ liệu: {e}", "slapcat could not export the data: {e}",
                               e=(result.stderr or result.stdout).strip()[-500:]))
    return "private"


def _export_external(client: DirectoryClient, ldif: Path) -> None:
    with open(ldif, "w", encoding="utf-8") as handle:
        for entry in client.iter_search(client.base_dn, "(objectClass=*)", attributes=("*",)):
            handle.write(entry_ldif(entry.dn, _stored_attributes(entry.attributes)))


def _stored_attributes(attributes: dict[str, list[bytes]]) -> dict[str, list[str | bytes]]:
    """The values as the server stores them (the client also files `x;binary` values under `x`), text as text."""
    return {name: [_text_or_bytes(value) for value in values] for name, values in attributes.items()
            if f"{name};binary" not in attributes}


def _text_or_bytes(value: bytes) -> str | bytes:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _count_entries(ldif: Path) -> int:
    with open(ldif, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.startswith(("dn:", "dn::")))


def _manifest(report: BackupReport) -> dict[str, object]:
    return {"format": FORMAT, "base_dn": report.base_dn, "source": report.source, "entries": report.entries,
            "created": datetime.now(UTC).isoformat(timespec="seconds")}


def _write_archive(output: Path, files: list[Path], state_dir: Path) -> None:
    """The tar.gz, written beside `output` under another name and renamed when complete (never half a file)."""
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        _pack(partial, files, state_dir)
        os.replace(partial, output)
    except OSError as exc:
        raise InvalidInput(t("Không ghi được {path}: {e}", "cannot write {path}: {e}", path=output,
                             e=exc.strerror or exc), "output") from exc
    finally:
        partial.unlink(missing_ok=True)


def _pack(path: Path, files: list[Path], state_dir: Path) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz") as archive:
            for file in files:
                archive.add(file, arcname=file.name)
            for folder in FOLDERS:
                if (state_dir / folder).is_dir():
                    archive.add(state_dir / folder, arcname=folder, filter=_regular_only)
        raw.flush()
        os.fsync(raw.fileno())


def _regular_only(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return member if member.isfile() or member.isdir() else None


def restore(settings: Settings, archive: Path, *, force: bool = False) -> BackupReport:
    """Load a backup into the private directory of the state folder (stopped or empty unless `force`)."""
    if not settings.embedded_directory:
        raise InvalidInput(t("Chỉ khôi phục được thư mục riêng; với máy chủ LDAP ngoài, nạp data.ldif bằng slapadd",
                             "restore loads the private directory only; on an external LDAP server load data.ldif "
                             "with slapadd"))
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.state_dir) as work:
        manifest = _unpack(archive, Path(work))
        _check_manifest(manifest, settings, archive)
        _replace_state(settings, Path(work), force=force)
    return BackupReport(archive, manifest["source"], manifest["entries"], manifest["base_dn"])


def _not_a_backup(archive: Path, reason: str) -> InvalidInput:
    return InvalidInput(t("{path} không phải bản sao lưu của mailadmin ({reason})",
                          "{path} is not a mailadmin backup ({reason})", path=archive, reason=reason), "file")


def _unpack(archive: Path, work: Path) -> dict:
    """Extract the archive into `work` after checking every member; the manifest."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, archive)
            tar.extractall(work, members=members, filter="data")
        return json.loads((work / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, EOFError, tarfile.TarError, ValueError) as exc:
        raise _not_a_backup(archive, str(exc) or type(exc).__name__) from exc


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    path = PurePosixPath(member.name)
    inside = not path.is_absolute() and ".." not in path.parts
    known = member.name in FILES or path.parts[0] in FOLDERS
    if not (inside and known and (member.isfile() or member.isdir())):
        raise _not_a_backup(archive, f"unexpected member {member.name!r}")


def _check_manifest(manifest: dict, settings: Settings, archive: Path) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "entries" not in manifest:
        raise _not_a_backup(archive, "manifest.json")
    if manifest.get("source") != "private":
        raise InvalidInput(t("{path} là bản xuất của máy chủ LDAP ngoài: nạp data.ldif bằng slapadd trên máy đó",
                             "{path} is an export of an external LDAP server: load its data.ldif with slapadd there",
                             path=archive), "file")
    if manifest.get("base_dn") != settings.organisation.base_dn:
        raise InvalidInput(t("Bản sao lưu của {theirs}, cấu hình này dùng {ours}",
                             "the backup holds {theirs}, this installation uses {ours}",
                             theirs=manifest.get("base_dn"), ours=settings.organisation.base_dn), "file")


def _replace_state(settings: Settings, work: Path, *, force: bool) -> None:
    """Stop slapd if asked to, move the current state aside, install the backup; undo on failure."""
    slapd = PrivateSlapd(settings)
    running = slapd.running_pid() is not None
    if (running or slapd.has_database) and not force:
        raise Conflict(t("Thư mục LDAP trong {state} {how}: dùng --force để ghi đè (trạng thái cũ được giữ lại)",
                         "the directory in {state} {how_en}: use --force to overwrite it (the old state is kept aside)",
                         state=settings.state_dir, how="đang chạy" if running else "đã có dữ liệu",
                         how_en="is running" if running else "holds data"))
    if running:
        slapd.stop()
    try:
        with _SetAside(settings.state_dir):
            _install(work, settings.state_dir)
            slapd.load_database(work / "data.ldif")
    finally:
        if running:  # the restored directory, or the old one put back
            slapd.start()


class _SetAside:
    """Moves ldap/ and FOLDERS to before-restore-<time>/; puts them back if the block fails."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.aside = state_dir / f"before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        self.moved = [name for name in ("ldap", *FOLDERS) if (state_dir / name).exists()]

    def __enter__(self) -> None:
        for name in self.moved:
            self.aside.mkdir(mode=0o700, exist_ok=True)
            os.replace(self.state_dir / name, self.aside / name)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            return
        for name in ("ldap", *FOLDERS):
            shutil.rmtree(self.state_dir / name, ignore_errors=True)
        for name in self.moved:
            os.replace(self.aside / name, self.state_dir / name)
        if self.aside.exists():
            self.aside.rmdir()


def _install(work: Path, state_dir: Path) -> None:
    for name in FOLDERS:
        if (work / name).is_dir():
            shutil.copytree(work / name, state_dir / name)
    secrets = state_dir / "secrets"
    if secrets.is_dir():
        secrets.chmod(0o700)
        for path in _files(secrets):
            path.chmod(0o600)


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())

