"""Locate the project's data folders (config/, templates/) in a checkout or an install."""

from __future__ import annotations

import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_ROOT = PACKAGE_DIR.parent
INSTALLED_SHARE = Path(sys.prefix) / "share" / "mailadmin"


def project_root() -> Path:
    """The folder holding config/ and templates/: the checkout, else the installed share/."""
    if (CHECKOUT_ROOT / "config" / "mailadmin.yaml").is_file():
        return CHECKOUT_ROOT
    return INSTALLED_SHARE


def project_path(*parts: str) -> Path:
    """A path below the project folder."""
    return project_root().joinpath(*parts)
