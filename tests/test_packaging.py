"""An installed (non-editable) mailadmin must carry every config and template file it reads."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def listed_data_files() -> set[Path]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "setup.cfg", encoding="utf-8")
    listed: set[Path] = set()
    for patterns in parser["options.data_files"].values():
        for pattern in filter(None, (p.strip() for p in patterns.replace("\n", ",").split(","))):
            listed.update(path.relative_to(ROOT) for path in ROOT.glob(pattern) if path.is_file())
    return listed


def test_every_config_and_template_file_is_installed() -> None:
    present = {path.relative_to(ROOT) for folder in ("config", "templates")
               for path in (ROOT / folder).rglob("*") if path.is_file()}
    missing = sorted(str(path) for path in present - listed_data_files())
    assert missing == [], f"add these to [options.data_files] in setup.cfg: {missing}"
