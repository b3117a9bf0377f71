"""slapd ACLs: the mail-server account reads only routing data, owners change only their password."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from mailadmin.directory.client import DirectoryClient, DirectoryConfig
from mailadmin.directory.mailrouting import MailRoutingStore, mailserver_dn
from mailadmin.errors import PermissionDenied
from mailadmin.model import Unit
from mailadmin.passwords import hash_generated
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.smtp.config import mailserver_directory
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory

PASSWORD = "Mat-khau-rieng-2026"


def person(services: Services, unit: Unit, name: str) -> tuple[str, str]:
    created = services.mailboxes.add(NewMailbox(full_name=name, unit_code=unit.code, password=PASSWORD,
                                                title="Chuyên viên", phone="0257 3823 456",
                                                hr_id=f"NS-{unit.code}-{name[-3:]}"))
    dn = services.mailboxes.store.find_entry(created.mailbox.uid).dn
    services.mailboxes.store.clear_password_reset(dn)
    return created.mailbox.uid, dn


def bound_as(services: Services, dn: str, password: str) -> DirectoryClient:
    config = services.client.config
    return DirectoryClient(DirectoryConfig(config.uris, config.base_dn, dn, password))


@pytest.fixture
def mailserver(directory: RunningDirectory) -> Iterator[DirectoryClient]:
    client = DirectoryClient(mailserver_directory(directory.settings))
    yield client
    client.close()


def test_mailserver_reads_routing_attributes_and_nothing_else(mailserver: DirectoryClient, services: Services,
                                                              unit: Unit) -> None:
    uid, dn = person(services, unit, "Lâm Văn Định Tuyến")
    entry = mailserver.get(dn)
    assert entry is not None
    assert set(entry.attributes) <= {"objectclass", "uid", "mail", "maillocaladdress", "maaccountstatus",
                                     "mamailquota"}
    assert entry.text("uid") == uid and entry.texts("mailLocalAddress")
    for secret in ("userPassword", "employeeNumber", "telephoneNumber", "title", "pwdHistory"):
        assert mailserver.get(dn, [secret]).raw(secret) == []
    assert mailserver.search(services.client.base_dn, "(employeeNumber=NS-*)") == []
    assert mailserver.get(mailserver_dn(services.client.base_dn)) is None  # not even its own entry


def test_mailserver_sees_whether_a_password_must_be_changed(mailserver: DirectoryClient, services: Services,
                                                            unit: Unit) -> None:
    """Dovecot's pass_filter leaves out accounts with ppolicy's pwdReset: it must be readable, not writable."""
    uid, dn = person(services, unit, "Lâm Văn Phải Đổi")
    assert mailserver.get(dn, ["pwdReset"]).raw("pwdReset") == []
    services.mailboxes.reset_password(uid)
    assert mailserver.get(dn, ["pwdReset"]).text("pwdReset") == "TRUE"
    assert mailserver.search(services.client.base_dn, f"(&(uid={uid})(pwdReset=TRUE))", attributes=["uid"])
    with pytest.raises(PermissionDenied):
        mailserver.modify(dn, {"pwdReset": ("replace", [])})
    for secret in ("pwdAccountLockedTime", "pwdFailureTime", "pwdChangedTime"):
        assert mailserver.get(dn, [secret]).raw(secret) == []


def test_mailserver_cannot_write(mailserver: DirectoryClient, services: Services, unit: Unit) -> None:
    uid, dn = person(services, unit, "Lâm Thị Chỉ Đọc")
    assert MailRoutingStore(mailserver).user_for_login(uid) is not None
    for change in ({"mail": ("replace", ["x@phuyen.gov.vn"])},
                   {"userPassword": ("replace", [hash_generated("Chiem-quyen-2026")])}):
        with pytest.raises(PermissionDenied):
            mailserver.modify(dn, change)


def test_owner_changes_own_password_and_nothing_else(services: Services, unit: Unit) -> None:
    _, dn = person(services, unit, "Kiều Văn Chủ Hộp")
    _, other_dn = person(services, unit, "Kiều Thị Hàng Xóm")
    owner = bound_as(services, dn, PASSWORD)
    try:
        assert owner.get(dn, ["userPassword"]).raw("userPassword") == []  # not even one's own hash
        for target, change in ((dn, {"mail": ("replace", ["giamao@phuyen.gov.vn"])}),
                               (dn, {"pwdAccountLockedTime": ("replace", [])}),
                               (other_dn, {"userPassword": ("replace", [hash_generated("Doi-ho-2026-xx")])})):
            with pytest.raises(PermissionDenied):
                owner.modify(target, change)
        assert owner.get(other_dn, ["employeeNumber"]).raw("employeeNumber") == []
        assert owner.get(other_dn, ["mail"]).text("mail")  # the address book is readable
        owner.modify(dn, {"userPassword": ("replace", [hash_generated("Mat-khau-moi-cua-toi-2026")])})
    finally:
        owner.close()
    assert services.client.check_password(dn, "Mat-khau-moi-cua-toi-2026")
    assert services.client.check_password(other_dn, PASSWORD)


def test_anonymous_reads_nothing(directory: RunningDirectory, services: Services, unit: Unit) -> None:
    person(services, unit, "Ẩn Danh Không Đọc")
    uri = services.client.config.uris[0]
    result = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", uri, "-b", services.client.base_dn, "(uid=*)", "uid"],
                            capture_output=True, text=True, timeout=30, check=False)
    assert "dn:" not in result.stdout
    assert result.returncode != 0
