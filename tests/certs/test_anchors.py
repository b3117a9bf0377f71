"""load_trust_anchors: a PEM bundle file or a folder of .pem/.crt/.cer files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailadmin.certs.validate import load_trust_anchors
from mailadmin.errors import ConfigError

from . import factory as f


def refusal(path: Path) -> tuple[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_trust_anchors(path)
    return caught.value.message.render("en"), caught.value.message.render("vi")


def test_bundle_file(tmp_path: Path, gov: f.Hierarchy) -> None:
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_bytes(f.pem(gov.root.cert, gov.issuing.cert))
    assert load_trust_anchors(bundle) == [gov.root.cert, gov.issuing.cert]


def test_folder_reads_pem_crt_cer_in_name_order(tmp_path: Path, gov: f.Hierarchy) -> None:
    public = f.root_ca("Public Root CA")
    (tmp_path / "a-root.pem").write_bytes(f.pem(gov.root.cert))
    (tmp_path / "b-issuing.cer").write_bytes(f.der(gov.issuing.cert))
    (tmp_path / "c-public.CRT").write_bytes(f.pem(public.cert))
    (tmp_path / "d-copy.crt").write_bytes(f.der(gov.root.cert))  # duplicate, dropped
    (tmp_path / "README.txt").write_text("không phải chứng thư")
    (tmp_path / ".hidden.pem").write_text("rác")
    (tmp_path / "sub.pem").mkdir()
    assert load_trust_anchors(tmp_path) == [gov.root.cert, gov.issuing.cert, public.cert]


def test_missing_path(tmp_path: Path) -> None:
    english, vietnamese = refusal(tmp_path / "nowhere")
    assert english == f"Trust anchor file or folder not found: {tmp_path / 'nowhere'}"
    assert "Không tìm thấy" in vietnamese


def test_folder_without_certificates(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    english, _ = refusal(tmp_path)
    assert english.startswith(f"No trust anchor certificate in {tmp_path}")


def test_bad_file_is_named(tmp_path: Path, gov: f.Hierarchy) -> None:
    (tmp_path / "good.pem").write_bytes(f.pem(gov.root.cert))
    broken = tmp_path / "broken.crt"
    broken.write_bytes(f.der(gov.issuing.cert)[:50])
    english, vietnamese = refusal(tmp_path)
    assert english.startswith(f"Cannot read trust anchor file {broken}: ")
    assert "truncated" in english
    assert "cắt cụt" in vietnamese


def test_empty_bundle_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"")
    assert "is empty" in refusal(empty)[0]
