"""The dashboard names units, as the lists do (issue #12: "unit shown as a code"): the expiring certificates
table said "T12" where the officer reads "Đơn vị thử nghiệm T12"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.certs.factory import der, root_ca


def test_expiring_certificates_name_their_unit(unit_admin_client: FlaskClient, unit: Unit,
                                               person: Callable[..., str], services: Services) -> None:
    now = datetime.now(UTC)
    soon = root_ca(not_before=now - timedelta(days=300), not_after=now + timedelta(days=10))
    holder = services.mailboxes.store.find_entry(person("Sắp Hết Hạn", unit)).dn
    services.client.modify(holder, {"userCertificate;binary": ("add", [der(soon.cert)])})
    page = unit_admin_client.get("/").get_data(as_text=True)
    table = page.split('id="expiring"')[1].split("</table>")[0]
    assert "Sắp Hết Hạn" in table and f"<td>{unit.name}</td>" in table
