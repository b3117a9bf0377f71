"""Trust anchors from configuration: a PEM bundle file or a folder of CA certificate files."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from mailadmin.certs.parse import load_certificates
from mailadmin.errors import ConfigError, InvalidInput
from mailadmin.i18n import t

ANCHOR_SUFFIXES = frozenset({".pem", ".crt", ".cer"})
MAX_BUNDLE_BYTES = 8 * 1024 * 1024


def load_trust_anchors(path: Path) -> list[x509.Certificate]:
    """Every certificate in a bundle file, or in each *.pem/*.crt/*.cer file of a folder."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and _is_anchor_file(p))
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError(
            t(
                "Không tìm thấy tệp hay thư mục CA tin cậy: {path}",
                "Trust anchor file or folder not found: {path}",
                path=str(path),
            )
        )
    anchors = list(dict.fromkeys(cert for file in files for cert in _read(file)))
    if not anchors:
        raise ConfigError(
            t(
                "Không có chứng thư CA tin cậy nào trong {path} (cần tệp .pem, .crt hoặc .cer).",
                "No trust anchor certificate in {path} (expected .pem, .crt or .cer files).",
                path=str(path),
            )
        )
    return anchors


def _is_anchor_file(path: Path) -> bool:
    return path.suffix.lower() in ANCHOR_SUFFIXES and not path.name.startswith(".")


def _read(file: Path) -> list[x509.Certificate]:
    try:
        return load_certificates(file.read_bytes(), max_bytes=MAX_BUNDLE_BYTES)
    except OSError as error:
        reason_vi = reason_en = error.strerror or str(error)
    except InvalidInput as error:
        reason_vi, reason_en = error.message.render("vi"), error.message.render("en")
    raise ConfigError(
        t(
            "Không đọc được tệp CA tin cậy {path}: {reason_vi}",
            "Cannot read trust anchor file {path}: {reason_en}",
            path=str(file),
            reason_vi=reason_vi,
            reason_en=reason_en,
        )
    )
