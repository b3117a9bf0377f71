"""Quota use on the mailbox page without a mail store to ask: off by default, a hung server, who may see it.

With a real Dovecot: tests/mailserver/test_quota_use.py."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from mailadmin import create_app
from mailadmin.model import Role, Unit
from mailadmin.settings import Mailstore
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory
from tests.web.conftest import login


def cell(page: str) -> str:
    return page.split('id="quota-use">')[1].split("</td>")[0]


def test_off_by_default_the_page_says_usage_is_not_reported(app: Flask, person: Callable[..., str],
                                                            unit: Unit, services: Services) -> None:
    client = app.test_client()
    admin = person("Quản Trị Mặc Định", unit, Role.SUPERADMIN)
    login(client, admin)
    owner = person("Nguyễn Thị Hộp Thư", unit)
    assert cell(client.get(f"/mailboxes/{owner}").get_data(as_text=True)) == "máy chủ thư không báo dung lượng đã dùng"
    client.get("/lang/en")
    page = client.get(f"/mailboxes/{owner}").get_data(as_text=True)
    assert "Storage used" in page and cell(page) == "the mail server does not report usage"
    headers = {"Authorization": f"Bearer {services.tokens.issue(admin)}"}
    assert app.test_client().get(f"/api/v1/mailboxes/{owner}", headers=headers).get_json()["quota_use"] == \
        {"state": "off"}


@pytest.fixture
def hung_server() -> Iterator[int]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_hung_mail_store_gives_the_notice_not_an_error(directory: RunningDirectory, hung_server: int,
                                                         person: Callable[..., str], unit: Unit,
                                                         tmp_path: object) -> None:
    store = Mailstore(doveadm_url=f"http://127.0.0.1:{hung_server}/doveadm/v1",
                      doveadm_key_file=str(directory.settings.state_dir / "secrets" / "hung-doveadm.key"),
                      timeout_seconds=1)
    (directory.settings.state_dir / "secrets" / "hung-doveadm.key").write_text("khoa-thu", encoding="utf-8")
    app = create_app({"TESTING": True}, settings=dataclasses.replace(directory.settings, mailstore=store))
    client = app.test_client()
    login(client, person("Quản Trị Chờ Lâu", unit, Role.SUPERADMIN))
    owner = person("Trần Văn Chờ Máy", unit)
    for _ in range(2):  # the second view does not wait again for the same hung server
        page = client.get(f"/mailboxes/{owner}")
        assert page.status_code == 200
        assert cell(page.get_data(as_text=True)) == "tạm thời không lấy được từ máy chủ thư"
    app.extensions["mailadmin"].close()


def test_only_those_who_may_see_the_mailbox_see_its_usage(unit_admin_client: object, person: Callable[..., str],
                                                          other_unit: Unit) -> None:
    outsider = person("Ngoài Đơn Vị", other_unit)
    assert unit_admin_client.get(f"/mailboxes/{outsider}").status_code == 403


def test_a_mailbox_without_a_quota_shows_the_default_dovecot_applies(admin_client: object, person: Callable[..., str],
                                                                     unit: Unit, services: Services) -> None:
    """Mailboxes imported before the one write path have no maMailQuota (issue #12: "Hạn mức 0 MiB"); Dovecot's
    quota_rule then applies mailboxes.default_quota_mib, and the page must say so rather than "0 MB"."""
    owner = person("Lã Văn Nhập Cũ", unit)
    services.client.modify(services.mailboxes.store.find_entry(owner).dn, {"maMailQuota": ("delete", [])})
    page = admin_client.get(f"/mailboxes/{owner}").get_data(as_text=True)
    quota = page.split("<th>Hạn mức</th><td>")[1].split("</td>")[0]
    assert quota == "2 GB (mặc định)"
