"""Ground rules of the code base that a reviewer would otherwise have to remember."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailadmin"
LDAP3_IMPORT = re.compile(r"^\s*(import ldap3|from ldap3)", re.MULTILINE)


def test_only_the_directory_layer_imports_ldap3() -> None:
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if LDAP3_IMPORT.search(path.read_text(encoding="utf-8"))
                 and path.parent.name != "directory"]
    assert offenders == []


def test_no_ldap3_mock_strategy_anywhere() -> None:
    root = PACKAGE.parent
    sources = [*PACKAGE.rglob("*.py"), *(root / "tests").rglob("*.py"), *(root / "scripts").rglob("*.py")]
    mocks = [str(p) for p in sources if re.search(r"MOCK_(A)?SYNC", p.read_text(encoding="utf-8"))
             and p.name != "test_architecture.py"]
    assert mocks == []


def test_nothing_below_the_services_imports_flask_or_the_cli() -> None:
    lower = [*PACKAGE.joinpath("directory").rglob("*.py"), *PACKAGE.joinpath("services").rglob("*.py"),
             PACKAGE / "model.py", PACKAGE / "names.py"]
    upward = re.compile(r"^\s*(from|import) (flask|mailadmin\.web|mailadmin\.cli)\b", re.MULTILINE)
    assert [str(p) for p in lower if upward.search(p.read_text(encoding="utf-8"))] == []


def test_the_smtp_service_and_the_cli_load_no_flask() -> None:
    """`import mailadmin` (and the SMTP service) stays light: the web layer loads only when create_app runs."""
    import subprocess
    import sys

    probe = "import sys, mailadmin, mailadmin.smtp.server, mailadmin.wiring; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=PACKAGE.parent)
    assert result.stdout.strip() == "False"
