"""Roles and unit scopes kept in the directory, and the checks built on them."""

from __future__ import annotations

import pytest

from mailadmin.errors import PermissionDenied
from mailadmin.model import Role, Unit
from mailadmin.services.authz import Principal, require
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.conftest import eventually


def test_roles_and_scopes_round_trip_and_follow_unit_moves(services: Services, unit: Unit) -> None:
    uid = services.mailboxes.add(NewMailbox(full_name="Nguyễn Văn Phân Quyền", unit_code=unit.code)).mailbox.uid
    dn = services.mailboxes.store.find_entry(uid).dn
    services.roles.set(dn, frozenset({Role.UNITADMIN}), (unit.path,))
    principal = services.principal(uid)
    assert principal.roles == {Role.UNITADMIN} and principal.scopes == (unit.path,)
    services.units.store.move(unit, services.units.get("555"))  # refint rewrites maAdminOf

    def scopes_followed() -> None:
        assert services.principal(uid).scopes == (("54", "555", unit.code),)
    eventually(scopes_followed)


def test_scope_checks() -> None:
    index_units = {
        "54": Unit("54", "Tỉnh", "province", ("54",)),  # type: ignore[arg-type]
        "555": Unit("555", "Tuy Hòa", "district", ("54", "555")),  # type: ignore[arg-type]
        "22015": Unit("22015", "Phường 1", "commune", ("54", "555", "22015")),  # type: ignore[arg-type]
        "557": Unit("557", "Sông Cầu", "district", ("54", "557")),  # type: ignore[arg-type]
    }
    district_admin = Principal("a", "A", frozenset({Role.UNITADMIN}), (("54", "555"),))
    assert district_admin.may_manage(index_units["555"]) and district_admin.may_manage(index_units["22015"])
    assert not district_admin.may_manage(index_units["557"]) and not district_admin.may_manage(index_units["54"])
    auditor = Principal("b", "B", frozenset({Role.AUDITOR}))
    assert auditor.may_read(index_units["557"]) and not auditor.may_manage(index_units["557"])
    hr = Principal("c", "C", frozenset({Role.HR}), (("54", "557"),))
    assert hr.may_import(index_units["557"]) and not hr.may_manage(index_units["557"])
    superadmin = Principal("d", "D", frozenset({Role.SUPERADMIN}))
    assert all(superadmin.may_manage(u) for u in index_units.values())
    with pytest.raises(PermissionDenied, match="no rights on the unit Sông Cầu"):
        require(district_admin.may_manage(index_units["557"]), index_units["557"])


def test_api_tokens_need_a_session_that_passed_the_second_factor_when_one_is_had_or_needed() -> None:
    policy = frozenset({Role.SUPERADMIN, Role.UNITADMIN})
    unenrolled_admin = Principal("a", "A", frozenset({Role.UNITADMIN}))
    enrolled_auditor = Principal("b", "B", frozenset({Role.AUDITOR}), second_factor=True)
    auditor, owner = Principal("c", "C", frozenset({Role.AUDITOR})), Principal("d", "D", frozenset())
    assert not unenrolled_admin.may_issue_api_token(False, policy)
    assert unenrolled_admin.may_issue_api_token(False, frozenset())  # the policy is off
    assert not enrolled_auditor.may_issue_api_token(False, policy)
    assert enrolled_auditor.may_issue_api_token(True, policy)
    assert auditor.may_issue_api_token(False, policy)
    assert not owner.may_issue_api_token(True, policy)  # no role, no token
    assert unenrolled_admin.must_enrol(policy) and not enrolled_auditor.must_enrol(policy)
