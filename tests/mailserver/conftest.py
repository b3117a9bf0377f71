"""Generated configurations for the session directory, with a spool the mail user can reach."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.settings import Settings
from tests.conftest import RunningDirectory
from tests.mailserver.servers import shared_folder

MAIL_USER = "nobody"


@pytest.fixture(scope="module")
def shared(directory: RunningDirectory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("the private Dovecot must run as root to switch to the mail user (CI runs as root)")
    folder = shared_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def with_spool(settings: Settings, shared: Path) -> Settings:
    """`settings` with the Maildir spool in a folder of `shared` the mail user may write."""
    spool = shared / "mail"
    spool.mkdir(mode=0o1777)
    spool.chmod(0o1777)
    return dataclasses.replace(settings, smtp=dataclasses.replace(settings.smtp, spool_dir=str(spool)))


@pytest.fixture(scope="module")
def mail_settings(directory: RunningDirectory, shared: Path) -> Settings:
    """The session's settings with the Maildir spool in a folder the mail user may write."""
    return with_spool(directory.settings, shared)
