"""Every change through the services lands in the audit log with who, when, before and after."""

from __future__ import annotations

from pathlib import Path

from mailadmin.audit import AuditLog, acting_as, current_actor
from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services


def entries_for(services: Services, target: str) -> list:
    return [entry for entry in services.audit.entries() if entry.target == target]


def test_changes_are_recorded_with_actor_and_diff(services: Services, unit: Unit) -> None:
    with acting_as("web:quantri"):
        uid = services.mailboxes.add(NewMailbox(full_name="Lý Thị Nhật Ký", unit_code=unit.code)).mailbox.uid
        services.mailboxes.suspend(uid)
    services.mailboxes.move(uid, "559")
    created, suspended, moved = entries_for(services, uid)
    assert (created.action, created.actor, created.before) == ("mailbox.create", "web:quantri", {})
    assert created.after["full_name"] == "Lý Thị Nhật Ký"
    assert (suspended.before, suspended.after) == ({"status": "active"}, {"status": "suspended"})
    assert moved.actor.startswith("cli:") and moved.after == {"unit_code": "559", "tier": "district"}
    assert created.at <= suspended.at <= moved.at


def test_passwords_never_reach_the_log(services: Services, unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Lý Văn Bí Mật", unit_code=unit.code))
    reset = services.mailboxes.reset_password(created.mailbox.uid)
    text = services.audit.path.read_text(encoding="utf-8")
    assert created.initial_password not in text and reset not in text


def test_log_is_append_only_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record("unit.rename", "555", {"name": "A"}, {"name": "B"})
    log.record("unit.rename", "555", {"name": "B"}, {"name": "C"})
    assert [e.after["name"] for e in log.entries()] == ["B", "C"]
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 2
    assert current_actor().startswith("cli:")
