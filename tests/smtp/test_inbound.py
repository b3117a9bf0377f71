"""Inbound: recipients checked against mailboxes, aliases and lists, no open relay, Maildir delivery."""

from __future__ import annotations

import dataclasses
import smtplib

import pytest

from mailadmin.model import Unit
from mailadmin.smtp.config import mail_routing
from mailadmin.wiring import Services
from tests.smtp.conftest import RunningSmtpd, message, new_list, new_mailbox, start_smtpd


def test_mail_to_an_address_and_an_alias_lands_in_the_maildir(smtpd: RunningSmtpd, services: Services,
                                                              unit: Unit) -> None:
    domain = services.settings.organisation.mail_domain
    alias = f"lanhdao-{unit.code.lower()}@{domain}"
    uid, mail = new_mailbox(services, unit, "Hoàng Văn Nhận", alias)
    with smtpd.inbound() as client:
        client.sendmail("ai@example.org", [mail], message("ai@example.org", mail, body="thư một"))
        client.sendmail("ai@example.org", [alias], message("ai@example.org", alias, body="thư hai"))
    delivered = smtpd.maildir(uid)
    assert len(delivered) == 2
    assert f"Delivered-To: {mail}".encode() in delivered[0]
    assert "thư hai".encode() in delivered[1]


def test_unknown_recipient_is_550(smtpd: RunningSmtpd, services: Services) -> None:
    domain = services.settings.organisation.mail_domain
    with smtpd.inbound() as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ai@example.org", [f"khongco-ai@{domain}"], message("ai@example.org", "x"))
    assert next(iter(refused.value.recipients.values()))[0] == 550


def test_no_open_relay(smtpd: RunningSmtpd) -> None:
    with smtpd.inbound() as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("ai@example.org", ["nan-nhan@example.net"], message("ai@example.org", "x"))
    assert next(iter(refused.value.recipients.values()))[0] == 554


def test_a_list_is_expanded_to_its_members_once_each(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    domain = services.settings.organisation.mail_domain
    members = [new_mailbox(services, unit, name) for name in ("Lý Văn Một", "Lý Thị Hai", "Lý Văn Ba")]
    gone_uid, _ = new_mailbox(services, unit, "Lý Văn Nghỉ Hưu")
    services.mailboxes.retire(gone_uid)
    address = f"toanbo-{unit.code.lower()}@{domain}"
    new_list(services, unit, f"Toàn bộ {unit.code}", address, [uid for uid, _ in members] + [gone_uid])
    with smtpd.inbound() as client:
        # the list and one member directly: that member still gets one copy
        client.sendmail("ai@example.org", [address, members[0][1]], message("ai@example.org", address))
    assert [len(smtpd.maildir(uid)) for uid, _ in members] == [1, 1, 1]
    assert smtpd.maildir(gone_uid) == []


def test_nested_lists_are_expanded(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    domain = services.settings.organisation.mail_domain
    inner_uid, _ = new_mailbox(services, unit, "Mai Văn Bên Trong")
    outer_uid, _ = new_mailbox(services, unit, "Mai Văn Bên Ngoài")
    inner = new_list(services, unit, f"Trong {unit.code}", f"trong-{unit.code.lower()}@{domain}", [inner_uid])
    outer_address = f"ngoai-{unit.code.lower()}@{domain}"
    outer = new_list(services, unit, f"Ngoai {unit.code}", outer_address, [outer_uid])
    services.client.modify(outer, {"member": ("add", [inner])})
    with smtpd.inbound() as client:
        client.sendmail("ai@example.org", [outer_address], message("ai@example.org", outer_address))
    assert len(smtpd.maildir(inner_uid)) == 1 and len(smtpd.maildir(outer_uid)) == 1


def test_a_stranger_may_not_send_as_one_of_our_mailboxes_without_logging_in(
        smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    """Unauthenticated mail claiming a staff member's address (or a list's) is refused at MAIL FROM, as
    Postfix's reject_unauthenticated_sender_login_mismatch does; other senders of our domain (the
    service's own noreply) and outside senders go on."""
    domain = services.settings.organisation.mail_domain
    _, director = new_mailbox(services, unit, "Giám Đốc Mạo Danh")
    uid, staff = new_mailbox(services, unit, "Nhân Viên Nhận Thư")
    group = new_list(services, unit, f"Mạo danh {unit.code}", f"maodanh-{unit.code.lower()}@{domain}", [uid])
    for claimed in (director, director.upper(), f"maodanh-{unit.code.lower()}@{domain}"):
        with smtpd.inbound() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(claimed, [staff], message(claimed, staff))
        assert refused.value.smtp_code == 553 and b"authenticat" in refused.value.smtp_error.lower(), claimed
    assert smtpd.maildir(uid) == [] and group
    with smtpd.inbound() as client:
        client.sendmail(f"noreply@{domain}", [staff], message(f"noreply@{domain}", staff))
        client.sendmail("congdan@example.vn", [staff], message("congdan@example.vn", staff))
        client.sendmail("", [staff], message("MAILER-DAEMON@example.vn", staff))  # a bounce
    assert len(smtpd.maildir(uid)) == 3


def test_the_services_own_sender_may_be_a_mailbox(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    """smtp.sender set to the IT centre's real mailbox: welcome and reminder mails still go out unauthenticated."""
    uid, staff = new_mailbox(services, unit, "Nhân Viên Nhận Thông Báo")
    _, centre = new_mailbox(services, unit, "Trung Tâm Công Nghệ")
    routing = mail_routing(services.settings)
    thread, running = start_smtpd(dataclasses.replace(smtpd.config, service_sender=centre), routing)
    try:
        with running.inbound() as client:
            client.sendmail(centre, [staff], message(centre, staff))
    finally:
        thread.stop()
        routing.close()
    assert len(smtpd.maildir(uid)) == 1
