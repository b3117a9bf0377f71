"""An import job planned under rights its owner no longer holds when confirming it.

The plan is checked against the importer's scope and the role holders beyond their reach at
upload time; confirm applied the journaled plan without asking again. An HR officer whose scope
over a unit was revoked (or whose file names someone made a unit admin meanwhile) could still
write there by confirming a job uploaded before: a 403 now, and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from mailadmin.model import Role, Status, Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token, login
from tests.web.test_imports_http import by_hr_id, staff_csv, upload, wait_done
from tests.web.test_roles_http import roles_form


def uploaded(client: FlaskClient, data: bytes) -> str:
    """Upload a file and return its job id (the preview: nothing written yet)."""
    response = upload(client, data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def confirm(client: FlaskClient, job: str):
    return client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(client, f"/imports/{job}")})


def test_a_scope_revoked_after_the_upload_refuses_the_confirmation(
        admin_client: FlaskClient, app: Flask, person: Callable[..., str], unit: Unit, other_unit: Unit,
        services: Services) -> None:
    hr = person("Cán Bộ Nhân Sự Hai Nơi", unit, Role.HR, (unit, other_unit))
    officer = app.test_client()
    login(officer, hr)
    data, hr_ids = staff_csv(other_unit, "Đỗ Văn Ngoài Quyền", prefix="REVOKED")
    job = uploaded(officer, data)
    answer = roles_form(admin_client, hr, action="revoke", role="hr", scope=other_unit.code)
    assert answer.status_code == 302 and services.roles.holder(hr).scopes == (unit.path,)
    login(officer, hr)  # the revocation ended the session; the job is still theirs
    refused = confirm(officer, job)
    assert refused.status_code == 403
    assert other_unit.code in refused.get_data(as_text=True)
    assert by_hr_id(services, hr_ids) == {}
    assert officer.get(f"/imports/{job}/status").get_json()["state"] == "planned"


def test_someone_made_a_unit_admin_after_the_upload_is_not_changed_by_it(
        app: Flask, person: Callable[..., str], unit: Unit, services: Services) -> None:
    hr = person("Cán Bộ Nhân Sự Cũ", unit, Role.HR, (unit,))
    target = person("Trương Văn Sắp Làm Quản Lý", unit)
    hr_id = f"PROMOTED-{target}"
    services.mailboxes.update(target, title="", phone="", hr_id=hr_id, quota_mib=0, aliases=())
    officer = app.test_client()
    login(officer, hr)
    row = f"{hr_id},Trương Văn Sắp Làm Quản Lý,{unit.code},Chuyên viên,,,,suspended\r\n"
    job = uploaded(officer, staff_csv(unit)[0] + row.encode())
    assert services.mailboxes.get(target).status is Status.ACTIVE  # the preview wrote nothing
    services.role_changes.grant(target, Role.UNITADMIN, unit.code)
    assert confirm(officer, job).status_code == 403
    assert services.mailboxes.get(target).status is Status.ACTIVE


def test_rights_unchanged_the_confirmation_applies(app: Flask, person: Callable[..., str], unit: Unit,
                                                   services: Services) -> None:
    officer = app.test_client()
    login(officer, person("Cán Bộ Nhân Sự Vẫn Quyền", unit, Role.HR, (unit,)))
    data, hr_ids = staff_csv(unit, "Đỗ Thị Trong Quyền", prefix="KEPT")
    job = uploaded(officer, data)
    assert confirm(officer, job).status_code == 302
    wait_done(officer, job)
    assert sorted(by_hr_id(services, hr_ids)) == sorted(hr_ids)  # search order is the directory's, not ours
