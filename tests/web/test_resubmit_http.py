"""F5 and resubmits never create or reset twice (issue #12: F5 on "Đã tạo hộp thư" made hungnv17, then hungnv18)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token


def form_fields(client: FlaskClient, path: str) -> dict[str, str]:
    """The hidden fields of the page's forms (CSRF token and the one-time submission id)."""
    page = client.get(path).get_data(as_text=True)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert submission, page
    return {"csrf_token": csrf_token(client, path), "submission": submission.group(1)}


def mailboxes_named(services: Services, unit: Unit, name: str) -> list[str]:
    return [m.uid for m in services.mailboxes.store.search() if m.unit_code == unit.code and m.name.full == name]


def test_reloading_the_result_page_creates_nothing_and_hides_the_password(admin_client: FlaskClient, unit: Unit,
                                                                         services: Services) -> None:
    form = {**form_fields(admin_client, "/mailboxes/new"), "full_name": "Nguyễn Văn Hùng", "unit": unit.code}
    answer = admin_client.post("/mailboxes/new", data=form)
    assert answer.status_code == 302
    first = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="one-time-password"' in first
    again = admin_client.get(answer.headers["Location"]).get_data(as_text=True)  # F5
    assert 'id="one-time-password"' not in again and 'id="already-shown"' in again
    assert len(mailboxes_named(services, unit, "Nguyễn Văn Hùng")) == 1


def test_sending_the_same_form_twice_creates_one_mailbox(admin_client: FlaskClient, unit: Unit,
                                                        services: Services) -> None:
    form = {**form_fields(admin_client, "/mailboxes/new"), "full_name": "Nguyễn Văn Hưng", "unit": unit.code}
    first = admin_client.post("/mailboxes/new", data=form)
    second = admin_client.post("/mailboxes/new", data=form)  # back button + send, or a resubmitted POST
    assert first.status_code == second.status_code == 302
    created = mailboxes_named(services, unit, "Nguyễn Văn Hưng")
    assert len(created) == 1 and second.headers["Location"].endswith(f"/mailboxes/{created[0]}")


def test_a_new_form_creates_a_second_person_of_the_same_name(admin_client: FlaskClient, unit: Unit,
                                                            services: Services) -> None:
    for _ in range(2):
        form = {**form_fields(admin_client, "/mailboxes/new"), "full_name": "Trần Thị Trùng", "unit": unit.code}
        assert admin_client.post("/mailboxes/new", data=form).status_code == 302
    assert len(mailboxes_named(services, unit, "Trần Thị Trùng")) == 2


def test_a_resent_reset_does_not_reset_again(admin_client: FlaskClient, person: Callable[..., str], unit: Unit,
                                             services: Services) -> None:
    uid = person("Lê Văn Đặt Lại", unit)
    dn = services.mailboxes.store.find_entry(uid).dn
    form = form_fields(admin_client, f"/mailboxes/{uid}")
    answer = admin_client.post(f"/mailboxes/{uid}/password", data=form)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/mailboxes/{uid}/once")
    shown = admin_client.get(answer.headers["Location"]).get_data(as_text=True)
    one_time = shown.split('id="one-time-password">')[1].split("<")[0]
    hashes = services.mailboxes.store.password_hashes(dn)
    assert admin_client.post(f"/mailboxes/{uid}/password", data=form).status_code == 302
    assert services.mailboxes.store.password_hashes(dn) == hashes
    assert services.client.check_password(dn, one_time)


def test_a_refused_form_keeps_its_submission_id_and_works_when_corrected(admin_client: FlaskClient, unit: Unit,
                                                                        services: Services) -> None:
    form = {**form_fields(admin_client, "/mailboxes/new"), "full_name": "Phan Văn Sửa", "unit": unit.code,
            "phone": "abc"}
    refused = admin_client.post("/mailboxes/new", data=form)
    assert refused.status_code == 400 and f'value="{form["submission"]}"' in refused.get_data(as_text=True)
    assert admin_client.post("/mailboxes/new", data={**form, "phone": ""}).status_code == 302
    assert len(mailboxes_named(services, unit, "Phan Văn Sửa")) == 1
