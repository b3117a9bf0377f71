"""Fixtures: one government CA hierarchy per session, an official's certificate, a fixed clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mailadmin.services.certificates import CertificateService
from mailadmin.wiring import Services

from . import factory as f
from .helpers import certificate_service


@pytest.fixture(scope="session")
def gov() -> f.Hierarchy:
    """RootCA chuyên dùng Chính phủ G2 → CA phục vụ các cơ quan Nhà nước G2."""
    return f.hierarchy()


@pytest.fixture(scope="session")
def leaf(gov: f.Hierarchy) -> f.Issued:
    """Nguyễn Văn An's signing certificate, issued by the government issuing CA."""
    return f.official(gov.issuing)


@pytest.fixture
def now() -> datetime:
    """The fixed 'current time' of every test."""
    return f.NOW


# --- binding against the real slapd (session directory, a unit of each test's own) -----------

@pytest.fixture(scope="session")
def anchors_dir(tmp_path_factory: pytest.TempPathFactory, gov: f.Hierarchy) -> Path:
    """A trust-anchor folder holding the test government root (and a README that is ignored)."""
    folder = tmp_path_factory.mktemp("anchors")
    (folder / "root.pem").write_bytes(f.pem(gov.root.cert))
    (folder / "README.md").write_text("ignored\n", encoding="utf-8")
    return folder


@pytest.fixture
def certificates(services: Services, anchors_dir: Path) -> CertificateService:
    """The certificate service over the session directory, trusting the test root."""
    return certificate_service(services, trust_anchors=str(anchors_dir))
