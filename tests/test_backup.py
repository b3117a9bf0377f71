"""`mailadmin directory backup|restore`: online backup, wipe, restore, the same data tree."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from mailadmin.model import Role, Status
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.slapd import PrivateSlapd, SlapdPaths
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.test_cli import run

# What slapd keeps about an entry's history rather than its data: allowed to differ after a restore.
OPERATIONAL = {"entrycsn", "modifytimestamp", "modifiersname", "createtimestamp", "creatorsname",
               "entryuuid", "structuralobjectclass", "contextcsn"}
GIVEN = ["An", "Bình", "Cúc", "Dũng", "Đào", "Hùng", "Hưng", "Lan", "Minh", "Thảo"]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Ngọc", "Minh"]


def dump(directory: RunningDirectory) -> dict[str, list[str]]:
    """Every entry of the database as DN -> sorted data attribute lines (slapcat, values decoded)."""
    paths = SlapdPaths.of(directory.settings)
    slapcat = Path(directory.settings.slapd.binary).with_name("slapcat")
    text = subprocess.run([str(slapcat), "-f", str(paths.config), "-o", "ldif-wrap=no"], capture_output=True,
                          text=True, check=True).stdout
    entries: dict[str, list[str]] = {}
    for record in filter(None, (block.strip() for block in text.split("\n\n"))):
        lines = [_decoded(line) for line in record.splitlines()]
        entries[lines[0]] = sorted(line for line in lines[1:] if line.split(":", 1)[0].lower() not in OPERATIONAL)
    return entries


def _decoded(line: str) -> str:
    name, _, value = line.partition(":")
    return f"{name}: {base64.b64decode(value[2:]).hex()}" if value.startswith(": ") else f"{name}:{value}"


def populate(services: Services, unit_code: str = "555", count: int = 300) -> str:
    """A few hundred mailboxes, one suspended super admin with an alias; that admin's uid."""
    names = [f"{FAMILY[i % 6]} {MIDDLE[(i // 60) % 5]} {GIVEN[(i // 6) % 10]}" for i in range(count)]
    assert not services.mailboxes.add_many([NewMailbox(full_name=n, unit_code=unit_code) for n in names])
    admin = services.mailboxes.add(NewMailbox(full_name="Trương Thị Sao Lưu", unit_code="STC",
                                              aliases=("saoluu@phuyen.gov.vn",))).mailbox.uid
    dn = services.mailboxes.store.find_entry(admin).dn
    services.roles.set(dn, frozenset({Role.SUPERADMIN}), ())
    services.mailboxes.store.set_status(dn, Status.SUSPENDED)  # the service keeps the last active super admin
    return admin


@pytest.fixture
def populated(fresh_directory: RunningDirectory) -> RunningDirectory:
    fresh_directory.admin = populate(fresh_directory.services)  # type: ignore[attr-defined]
    jobs = fresh_directory.settings.state_dir / "jobs" / "20261201-job"
    jobs.mkdir(parents=True)
    (jobs / "state.json").write_text('{"state": "done"}', encoding="utf-8")
    return fresh_directory


def test_backup_wipe_restore_gives_the_same_tree(populated: RunningDirectory, tmp_path: Path) -> None:
    state = populated.settings.state_dir
    before, audit = dump(populated), (state / "audit" / "audit.jsonl").read_bytes()
    archive = tmp_path / "backup.tar.gz"
    made = run(populated, "directory", "backup", "-o", str(archive), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["entries"] == len(before)
    assert archive.stat().st_mode & 0o777 == 0o600
    populated.stop()
    shutil.rmtree(state)
    restored = run(populated, "directory", "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    PrivateSlapd(populated.settings).start()
    assert dump(populated) == before
    assert (state / "audit" / "audit.jsonl").read_bytes() == audit
    assert (state / "jobs" / "20261201-job" / "state.json").exists()
    fresh = Services(populated.settings)  # the restored secrets open the restored directory
    admin = populated.admin  # type: ignore[attr-defined]
    assert fresh.mailboxes.get(admin).status.value == "suspended"
    assert fresh.principal(admin).roles == frozenset({Role.SUPERADMIN})
    fresh.close()


def test_restore_refuses_a_live_or_filled_directory_without_force(populated: RunningDirectory,
                                                                   tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar.gz"
    assert run(populated, "directory", "backup", "-o", str(archive)).returncode == 0
    populated.services.mailboxes.add(NewMailbox(full_name="Mai Văn Sau Cùng", unit_code="STC"))
    after_backup = dump(populated)
    live = run(populated, "directory", "restore", str(archive))
    assert live.returncode == 4 and "Traceback" not in live.stderr
    assert "Error: the directory in " in live.stderr and "--force" in live.stderr
    assert dump(populated) == after_backup and PrivateSlapd(populated.settings).running_pid()
    populated.slapd.stop()
    stopped = run(populated, "directory", "restore", str(archive))
    assert stopped.returncode == 4 and "--force" in stopped.stderr
    assert run(populated, "directory", "start").returncode == 0  # not our child: the restore stops it
    forced = run(populated, "directory", "restore", str(archive), "--force")
    assert forced.returncode == 0, forced.stderr
    assert PrivateSlapd(populated.settings).running_pid(), "a forced restore starts the directory it stopped"
    assert "mai văn sau cùng" not in json.dumps(dump(populated), ensure_ascii=False).lower()


@pytest.mark.parametrize("content", [b"not a tar at all", b""])
def test_a_file_that_is_not_a_backup_is_refused_cleanly(tmp_path: Path, directory: RunningDirectory,
                                                        content: bytes) -> None:
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(content)
    result = run(directory, "directory", "restore", str(bogus), "--force")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("Lỗi: ") and "is not a mailadmin backup" in result.stderr
    assert "Traceback" not in result.stderr and PrivateSlapd(directory.settings).running_pid()


def test_an_archive_escaping_the_state_folder_is_refused(tmp_path: Path, directory: RunningDirectory) -> None:
    evil = tmp_path / "evil.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="manifest.json")
        tar.add(payload, arcname="../../escaped")
    result = run(directory, "directory", "restore", str(evil), "--force")
    assert result.returncode == 2 and "is not a mailadmin backup" in result.stderr
    assert not (directory.settings.state_dir.parent.parent / "escaped").exists()


def test_an_external_directory_is_exported_through_the_service_account(directory: RunningDirectory,
                                                                       tmp_path: Path) -> None:
    paths = SlapdPaths.of(directory.settings)
    environ = {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path / "state"),
               "MAILADMIN_LDAP_URIS": directory.slapd.uri, "MAILADMIN_LDAP_BIND_DN": directory.slapd.status().bind_dn,
               "MAILADMIN_LDAP_BIND_PASSWORD_FILE": str(paths.service_password)}
    archive = tmp_path / "external.tar.gz"
    made = subprocess.run([sys.executable, "-m", "mailadmin", "directory", "backup", "-o", str(archive), "--json"],
                          capture_output=True, text=True, env=environ, timeout=120)
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    client = directory.services.client
    assert report["source"] == "external"
    assert report["entries"] == client.count(client.base_dn, "(objectClass=*)")
    with tarfile.open(archive) as tar:
        ldif = tar.extractfile("data.ldif").read().decode()  # type: ignore[union-attr]
    assert f"dn: {client.base_dn}\n" in ldif and "entryCSN" not in ldif
    refused = subprocess.run([sys.executable, "-m", "mailadmin", "directory", "restore", str(archive)],
                             capture_output=True, text=True, env={**environ, "MAILADMIN_LDAP_URIS": ""}, timeout=60)
    assert refused.returncode == 2 and "is an export of an external LDAP server" in refused.stderr


def test_backup_errors_are_clean(tmp_path: Path, directory: RunningDirectory) -> None:
    empty = {**os.environ, "MAILADMIN_STATE_DIR": str(tmp_path / "nothing-here")}
    missing = subprocess.run([sys.executable, "-m", "mailadmin", "directory", "backup", "-o", str(tmp_path / "b.tgz")],
                             capture_output=True, text=True, env=empty, timeout=60)
    assert missing.returncode == 3 and "Error: there is no directory in " in missing.stderr
    unwritable = run(directory, "directory", "backup", "-o", "/proc/mailadmin-backup.tar.gz")
    assert unwritable.returncode == 2 and "Error: cannot write /proc/mailadmin-backup.tar.gz" in unwritable.stderr
    for result in (missing, unwritable):
        assert result.stderr.startswith("Lỗi: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "b.tgz").exists()
