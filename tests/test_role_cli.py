"""`mailadmin role grant|revoke`: the first super admin without a raw ldapmodify, audited, clean errors."""

from __future__ import annotations

import getpass
import json

import pytest

from mailadmin.model import Role, Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.test_cli import run


def person(services: Services, unit: Unit, name: str) -> str:
    """A new mailbox in the test's unit; its uid."""
    return services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code)).mailbox.uid


def held(services: Services, uid: str) -> tuple[set[str], set[str]]:
    """Roles and administered unit codes of a mailbox, read back from slapd."""
    holder = services.roles.holder(uid)
    assert holder is not None
    return {role.value for role in holder.roles}, {path[-1] for path in holder.scopes}


def test_grant_and_revoke_superadmin_is_audited_as_the_os_user(directory: RunningDirectory, unit: Unit) -> None:
    services = directory.services
    uid = person(services, unit, "Trần Văn Quản")
    granted = run(directory, "role", "grant", uid, "superadmin", "--json")
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout) == {"uid": uid, "roles": ["superadmin"], "scopes": [], "changed": True}
    assert held(services, uid) == ({"superadmin"}, set())
    entry = [e for e in services.audit.entries() if e.target == uid][-1]
    assert (entry.action, entry.actor) == ("role.grant", f"cli:{getpass.getuser()}")
    assert entry.after == {"roles": ["superadmin"]}  # the audit log keeps what changed
    services.role_changes.grant(person(services, unit, "Trần Văn Kế Nhiệm"), Role.SUPERADMIN)  # not the last one
    revoked = run(directory, "role", "revoke", uid, "superadmin")
    assert revoked.returncode == 0, revoked.stderr
    assert held(services, uid) == (set(), set())
    assert [e.action for e in services.audit.entries() if e.target == uid][-1] == "role.revoke"


def test_scoped_roles_add_and_remove_units(directory: RunningDirectory, unit: Unit) -> None:
    services = directory.services
    uid = person(services, unit, "Lê Thị Phân Quyền")
    assert run(directory, "role", "grant", uid, "unitadmin", "--scope", unit.code).returncode == 0
    assert run(directory, "role", "grant", uid, "hr", "--scope", "555").returncode == 0
    assert held(services, uid) == ({"unitadmin", "hr"}, {unit.code, "555"})
    again = json.loads(run(directory, "role", "grant", uid, "hr", "--scope", "555", "--json").stdout)
    assert again["changed"] is False
    assert run(directory, "role", "revoke", uid, "unitadmin").returncode == 0
    assert held(services, uid) == ({"hr"}, {unit.code, "555"})
    assert run(directory, "role", "revoke", uid, "hr", "--scope", unit.code).returncode == 0
    assert held(services, uid) == ({"hr"}, {"555"})
    assert run(directory, "role", "revoke", uid, "hr", "--scope", "555").returncode == 0
    assert held(services, uid) == (set(), set())


def test_the_unit_admin_service_sees_a_granted_unit_admin(directory: RunningDirectory, unit: Unit) -> None:
    uid = person(directory.services, unit, "Phạm Văn Đơn Vị")
    assert run(directory, "role", "grant", uid, "unitadmin", "--scope", unit.code).returncode == 0
    assert uid in directory.services.unit_admin.admins_of(unit.code)
    assert directory.services.principal(uid).roles == frozenset({Role.UNITADMIN})


@pytest.mark.parametrize(("args", "code", "english"), [
    (("grant", "{uid}", "overlord"), 2, "unknown role overlord"),
    (("grant", "{uid}", "unitadmin"), 2, "the role unitadmin needs --scope UNIT"),
    (("grant", "{uid}", "hr"), 2, "the role hr needs --scope UNIT"),
    (("grant", "{uid}", "superadmin", "--scope", "555"), 2, "the role superadmin covers the whole province"),
    (("grant", "{uid}", "auditor", "--scope", "555"), 2, "the role auditor covers the whole province"),
    (("grant", "khongco", "auditor"), 3, "no mailbox khongco"),
    (("grant", "{uid}", "hr", "--scope", "99999"), 3, "no unit with code 99999"),
    (("revoke", "{uid}", "auditor"), 3, "{uid} does not hold the role auditor"),
])
def test_bad_input_is_refused_in_both_languages(directory: RunningDirectory, unit: Unit, args: tuple[str, ...],
                                                code: int, english: str) -> None:
    uid = person(directory.services, unit, "Võ Thị Sai Sót")
    result = run(directory, "role", *(arg.format(uid=uid) for arg in args))
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("Lỗi: ") and f"Error: {english.format(uid=uid)}" in result.stderr
    assert "Traceback" not in result.stderr
    assert held(directory.services, uid) == (set(), set())


def test_a_retired_mailbox_gets_no_role(directory: RunningDirectory, unit: Unit) -> None:
    uid = person(directory.services, unit, "Đinh Văn Nghỉ")
    directory.services.mailboxes.retire(uid)
    result = run(directory, "role", "grant", uid, "auditor")
    assert result.returncode == 4 and "Error: the mailbox " in result.stderr
    assert held(directory.services, uid) == (set(), set())
