"""Imported mailboxes get the same defaults as the ones made in the web admin (issue #12: "Hạn mức 0 MiB")."""

from __future__ import annotations

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
from tests.web.conftest import csrf_token
from tests.web.test_imports_http import by_hr_id, staff_csv, upload, wait_done


def test_an_imported_mailbox_has_the_default_quota_like_a_created_one(admin_client: FlaskClient, unit: Unit,
                                                                     services: Services) -> None:
    data, hr_ids = staff_csv(unit, "Kha Văn Hạn Mức")
    job = upload(admin_client, data).headers["Location"].rsplit("/", 1)[1]
    admin_client.post(f"/imports/{job}/confirm", data={"csrf_token": csrf_token(admin_client, f"/imports/{job}")})
    wait_done(admin_client, job)
    imported = services.mailboxes.get(by_hr_id(services, hr_ids)[hr_ids[0]])
    created = services.mailboxes.add(NewMailbox(full_name="Kha Văn Tạo Tay", unit_code=unit.code)).mailbox
    default = services.settings.mailboxes.default_quota_mib
    assert imported.quota_mib == created.quota_mib == default > 0
    page = admin_client.get(f"/mailboxes/{imported.uid}").get_data(as_text=True)
    assert "2 GB" in page
