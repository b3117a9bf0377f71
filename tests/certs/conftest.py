"""Fixtures: one government CA hierarchy per session, an official's certificate, a fixed clock."""

from __future__ import annotations

from datetime import datetime

import pytest

from . import factory as f


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
