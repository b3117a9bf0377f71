"""Hostile and messy HR files uploaded over HTTP: a clear page, never a 500, nothing written."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from mailadmin.model import Unit
from mailadmin.services.mailboxes import MailboxQuery
from mailadmin.wiring import Services
from tests.web.test_imports_http import staff_csv, upload


def mailboxes_of(services: Services, unit: Unit) -> list[str]:
    return [m.uid for m in services.mailboxes.find(MailboxQuery(unit_code=unit.code))]


def test_deeply_nested_yaml_upload_is_a_400_with_the_reason(admin_client: FlaskClient, unit: Unit,
                                                            services: Services) -> None:
    before = mailboxes_of(services, unit)
    response = upload(admin_client, b"[" * 400 + b"]" * 400, "deep.yaml")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "lồng nhau quá" in page
    admin_client.get("/lang/en")
    english = upload(admin_client, b"{a: " * 400 + b"b" + b"}" * 400, "deep.yml").get_data(as_text=True)
    assert "nested more than" in english
    assert mailboxes_of(services, unit) == before


def test_preview_shows_the_stripped_honorific_and_both_repeated_rows(admin_client: FlaskClient, unit: Unit,
                                                                      services: Services) -> None:
    before = mailboxes_of(services, unit)
    data, hr_ids = staff_csv(unit, "Đ/c Nguyễn Văn Bình (Phó phòng)", "Bùi Thị Lặp", "*)(objectClass=*")
    data += f"{hr_ids[1]},Bùi Văn Lặp,{unit.code},,,,,\r\n".encode()
    response = upload(admin_client, data)
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="count-create">\s*1<', page) and re.search(r'id="count-error">\s*3<', page)
    assert "Đã bỏ «Đ/c», «(Phó phòng)» khỏi họ tên" in page and "binhnv" in page
    assert page.count("có ở nhiều dòng (3, 5)") == 2 and "Họ tên chứa ký tự «*»" in page
    assert mailboxes_of(services, unit) == before
