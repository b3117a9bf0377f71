"""Proof with the real Postfix: `postmap -q` resolves a mailbox, an alias and a list through the generated maps."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailadmin.mailserver.generate import generate
from mailadmin.model import Unit
from mailadmin.settings import Settings
from mailadmin.wiring import Services
from tests.mailserver.conftest import MAIL_USER
from tests.mailserver.servers import postmap
from tests.smtp.conftest import new_list, new_mailbox


@pytest.fixture(scope="module")
def postfix_dir(mail_settings: Settings, shared: Path, directory) -> Path:
    """The generated files; their main.cf doubles as the private instance's minimal main.cf."""
    out = shared / "postfix"
    result = generate(mail_settings, directory.services.client, "postfix", out, mail_user=MAIL_USER)
    assert result.warnings == []
    assert all(path.stat().st_mode & 0o777 == 0o600 for path in result.written)
    return out


def test_postmap_resolves_mailbox_alias_list_and_sender_logins(postfix_dir: Path, services: Services,
                                                               unit: Unit) -> None:
    code = unit.code.lower()
    alias = f"tiepdan-{code}@phuyen.gov.vn"
    uid, mail = new_mailbox(services, unit, "Quách Văn Bưu Điện", alias)
    other_uid, other_mail = new_mailbox(services, unit, "Quách Thị Thành Viên")
    list_address = f"hop-{code}@phuyen.gov.vn"
    new_list(services, unit, f"Họp {unit.code}", list_address, [uid, other_uid])

    assert postmap(postfix_dir, "ldap-virtual-mailbox-maps.cf", mail) == f"{uid}/"
    assert postmap(postfix_dir, "ldap-virtual-alias-maps.cf", alias) == mail
    assert sorted(postmap(postfix_dir, "ldap-virtual-list-maps.cf", list_address).split(",")) == \
        sorted([mail, other_mail])
    assert set(postmap(postfix_dir, "ldap-sender-login-maps.cf", alias).split(",")) == {uid, mail}
    assert postmap(postfix_dir, "ldap-virtual-mailbox-maps.cf", f"khongco-{code}@phuyen.gov.vn") is None
    assert postmap(postfix_dir, "ldap-virtual-alias-maps.cf", "*)(mail=*") is None


def test_retired_mailboxes_leave_the_maps(postfix_dir: Path, services: Services, unit: Unit) -> None:
    uid, mail = new_mailbox(services, unit, "Quách Văn Đã Thôi")
    assert postmap(postfix_dir, "ldap-virtual-mailbox-maps.cf", mail) == f"{uid}/"
    services.mailboxes.retire(uid)
    assert postmap(postfix_dir, "ldap-virtual-mailbox-maps.cf", mail) is None
