"""Many certificate files at once: a folder or a zip, read defensively into memory.

Nothing is ever extracted to disk, so member names are only labels; still, absolute paths and
`..` components, links, encrypted members, over-size members, implausible compression ratios
and too many members are refused, each with its reason. Reads are capped by the bytes actually
decompressed, not by the sizes a (possibly forged) zip header declares.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath

from mailadmin.certs.parse import MAX_CERTIFICATE_BYTES
from mailadmin.errors import InvalidInput
from mailadmin.i18n import Text, t

CERTIFICATE_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".der", ".p7b", ".p7c"})
_IGNORED_PARTS = ("__MACOSX",)


@dataclass(frozen=True)
class BundleLimits:
    """How much a bundle may hold."""

    max_files: int = 5_000
    max_file_bytes: int = MAX_CERTIFICATE_BYTES
    max_total_bytes: int = 64 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed size of one zip member


@dataclass(frozen=True)
class BundleFile:
    """One member: its bytes, or the reason it was not read."""

    name: str
    data: bytes | None = None
    problem: Text | None = None


@dataclass
class Bundle:
    """The certificate files of a folder or zip, and the names of the other files (skipped)."""

    files: list[BundleFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def read_bundle(path: Path, limits: BundleLimits | None = None) -> Bundle:
    """Every certificate file of a folder (recursively, links not followed) or a zip archive."""
    limits = limits or BundleLimits()
    if path.is_dir():
        return _collect(_folder_members(path, limits), limits)
    if path.is_file() and zipfile.is_zipfile(path):
        return _read_zip(path, limits)
    if path.is_file():
        raise InvalidInput(t("{path} không phải thư mục hay tệp zip.", "{path} is neither a folder nor a zip file.",
                             path=str(path)))
    raise InvalidInput(t("Không tìm thấy {path}.", "{path} not found.", path=str(path)))


# -- shared -------------------------------------------------------------------------------------

Reader = Callable[[int], bytes]  # reads at most that many bytes of one member
Source = Reader | Text | None  # bytes to read, the reason not to read them, or None: not a certificate file


def _collect(members: Iterator[tuple[str, Source]], limits: BundleLimits) -> Bundle:
    bundle = Bundle()
    total = 0
    for name, source in members:
        if source is None:
            bundle.ignored.append(name)
            continue
        if len(bundle.files) >= limits.max_files:
            raise InvalidInput(t("Gói có hơn {limit} tệp chứng thư.", "The bundle holds more than {limit} "
                                 "certificate files.", limit=limits.max_files))
        if isinstance(source, Text):
            bundle.files.append(BundleFile(name, problem=source))
            continue
        item = _read_member(name, source, limits)
        total += len(item.data or b"")
        if total > limits.max_total_bytes:
            raise InvalidInput(t("Gói lớn hơn {limit} MiB khi giải nén.", "The bundle exceeds {limit} MiB "
                                 "uncompressed.", limit=limits.max_total_bytes // (1024 * 1024)))
        bundle.files.append(item)
    return bundle


def _read_member(name: str, reader: Reader, limits: BundleLimits) -> BundleFile:
    try:
        data = reader(limits.max_file_bytes + 1)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        return BundleFile(name, problem=t("Không đọc được tệp: {reason}", "Cannot read the file: {reason}",
                                          reason=str(error) or type(error).__name__))
    if len(data) > limits.max_file_bytes:
        return BundleFile(name, problem=_too_large(limits))
    return BundleFile(name, data=data)


def _too_large(limits: BundleLimits) -> Text:
    return t("Tệp quá lớn cho một chứng thư (tối đa {limit} byte).",
             "The file is too large for a certificate (at most {limit} bytes).", limit=limits.max_file_bytes)


def _wanted(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (PurePosixPath(name).suffix.lower() in CERTIFICATE_SUFFIXES
            and not any((p.startswith(".") and p != "..") or p in _IGNORED_PARTS for p in parts))


def _label(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)[:300]


# -- folders ------------------------------------------------------------------------------------

def _folder_members(root: Path, limits: BundleLimits) -> Iterator[tuple[str, Source]]:
    for folder, subfolders, names in os.walk(root, followlinks=False):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder, name)
            label = _label(path.relative_to(root).as_posix())
            if not _wanted(label):
                yield label, None
            elif path.is_symlink() or not path.is_file():
                yield label, _link_refused()
            else:
                yield label, partial(_read_file, path)


def _read_file(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _link_refused() -> Text:
    return t("Liên kết tượng trưng hoặc tệp đặc biệt: không đọc.", "A symbolic link or special file: not read.")


# -- zip archives -------------------------------------------------------------------------------

def _read_zip(path: Path, limits: BundleLimits) -> Bundle:
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > limits.max_files * 2:
                raise InvalidInput(t("Tệp zip có quá nhiều mục ({count}).", "The zip has too many members ({count}).",
                                     count=len(infos)))
            return _collect(_zip_members(archive, infos, limits), limits)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
        raise InvalidInput(t("Tệp zip hỏng: {reason}", "The zip file is damaged: {reason}",
                             reason=str(error) or type(error).__name__)) from None


def _zip_members(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                 limits: BundleLimits) -> Iterator[tuple[str, Source]]:
    for info in infos:
        if info.is_dir():
            continue
        label = _label(info.filename)
        if not _wanted(label):
            yield label, None
            continue
        problem = _zip_member_problem(info, limits)
        yield label, problem or partial(_read_zip_member, archive, info)


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes:
    with archive.open(info) as handle:
        return handle.read(size)


def _zip_member_problem(info: zipfile.ZipInfo, limits: BundleLimits) -> Text | None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in path.parts[0]:
        return t("Đường dẫn không an toàn trong zip (tuyệt đối hoặc có '..').",
                 "Unsafe path in the zip (absolute or with '..').")
    if stat.S_ISLNK(info.external_attr >> 16):
        return _link_refused()
    if info.flag_bits & 0x1:
        return t("Tệp trong zip được mã hóa bằng mật khẩu.", "The zip member is password-protected.")
    if info.file_size > limits.max_file_bytes:
        return _too_large(limits)
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        return t("Tỉ lệ nén bất thường ({ratio}:1): có thể là bom zip.",
                 "Implausible compression ratio ({ratio}:1): possibly a zip bomb.",
                 ratio=info.file_size // info.compress_size)
    return None
