"""Reading a folder or zip of certificate files defensively (no LDAP involved)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from mailadmin.certs.bundle import BundleLimits, read_bundle
from mailadmin.errors import InvalidInput

from . import factory as f


def make_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A zip archive with these members."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def problems(path: Path, limits: BundleLimits | None = None) -> dict[str, str]:
    """File name -> English problem ('' when the file was read)."""
    bundle = read_bundle(path, limits)
    return {item.name: item.problem.render("en") if item.problem else "" for item in bundle.files}


def test_folder_reads_certificate_files_only_and_refuses_links(tmp_path: Path, leaf: f.Issued) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.pem").write_bytes(f.pem(leaf.cert))
    (tmp_path / "sub" / "b.CER").write_bytes(f.der(leaf.cert))
    (tmp_path / "notes.txt").write_text("not a certificate")
    (tmp_path / ".hidden.pem").write_bytes(b"x")
    os.symlink("/etc/passwd", tmp_path / "link.pem")
    bundle = read_bundle(tmp_path)
    assert {item.name: item.data for item in bundle.files if item.data} == {
        "a.pem": f.pem(leaf.cert), "sub/b.CER": f.der(leaf.cert)}
    assert problems(tmp_path)["link.pem"] == "A symbolic link or special file: not read."
    assert sorted(bundle.ignored) == [".hidden.pem", "notes.txt"]


def test_zip_hostile_members(tmp_path: Path, leaf: f.Issued) -> None:
    archive = make_zip(tmp_path / "certs.zip", {
        "ok.pem": f.pem(leaf.cert),
        "../../etc/evil.pem": f.pem(leaf.cert),
        "/abs/evil.pem": f.pem(leaf.cert),
        "bomb.pem": b"\0" * (10 * 1024 * 1024),
        "ratio.pem": b"\0" * (200 * 1024),
        "__MACOSX/._ok.pem": b"resource fork",
    })
    found = problems(archive)
    assert found["ok.pem"] == ""
    assert found["../../etc/evil.pem"] == found["/abs/evil.pem"] == "Unsafe path in the zip (absolute or with '..')."
    assert found["bomb.pem"] == "The file is too large for a certificate (at most 262144 bytes)."
    assert found["ratio.pem"].startswith("Implausible compression ratio")
    assert "__MACOSX/._ok.pem" not in found


def test_zip_symlink_and_encrypted_members(tmp_path: Path, leaf: f.Issued) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("link.pem")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("locked.pem", f.pem(leaf.cert))
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")  # the last central directory record: locked.pem
    data[central + 8] |= 0x01  # general purpose flag bit 0: encrypted
    path = tmp_path / "odd.zip"
    path.write_bytes(bytes(data))
    found = problems(path)
    assert found == {"link.pem": "A symbolic link or special file: not read.",
                     "locked.pem": "The zip member is password-protected."}


def test_whole_bundle_limits(tmp_path: Path, leaf: f.Issued) -> None:
    many = make_zip(tmp_path / "many.zip", {f"{n}.pem": f.pem(leaf.cert) for n in range(4)})
    with pytest.raises(InvalidInput, match="more than 3 certificate files"):
        read_bundle(many, BundleLimits(max_files=3))
    with pytest.raises(InvalidInput, match="exceeds 0 MiB uncompressed"):
        read_bundle(many, BundleLimits(max_total_bytes=1000))
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(InvalidInput, match="neither a folder nor a zip"):
        read_bundle(not_zip)
    with pytest.raises(InvalidInput, match="not found"):
        read_bundle(tmp_path / "missing")


def test_corrupt_member_is_a_per_file_problem(tmp_path: Path, leaf: f.Issued) -> None:
    archive = make_zip(tmp_path / "c.zip", {"a.pem": f.pem(leaf.cert), "b.pem": f.pem(leaf.cert)},
                       zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    start = data.find(b"-----BEGIN")
    data[start + 40] ^= 0xFF  # damage a.pem's body: the CRC no longer matches
    archive.write_bytes(bytes(data))
    found = problems(archive)
    assert found["a.pem"].startswith("Cannot read the file:") and found["b.pem"] == ""
