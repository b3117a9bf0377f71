"""Unauthenticated MAIL FROM claiming one of our addresses (round 5): the spellings of one address.

Last round's fix refuses `MAIL FROM:<giamdoc@our.domain>` without AUTH (553 5.7.1). The same mailbox
written another way must be refused too: RFC 5321 makes `"giamdoc"@d` and `giamdoc@d` one mailbox,
and a retired official's address stays ours (kept until its date) whether or not it still receives.
"""

from __future__ import annotations

import smtplib

import pytest

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.smtp.conftest import RunningSmtpd, message, new_mailbox


def mail_from(smtpd: RunningSmtpd, sender: str) -> tuple[int, bytes]:
    """The reply to MAIL FROM:<sender> on the inbound port, without AUTH."""
    with smtpd.inbound() as client:
        client.ehlo()
        return client.docmd("MAIL", f"FROM:<{sender}>")


@pytest.mark.parametrize("spelling", ["{local}@{domain}", "{LOCAL}@{DOMAIN}", '"{local}"@{domain}',
                                      "{local}@{domain}.", "@relay.example.net:{local}@{domain}"])
def test_every_spelling_of_one_of_our_addresses_is_refused(smtpd: RunningSmtpd, services: Services, unit: Unit,
                                                            spelling: str) -> None:
    _, director = new_mailbox(services, unit, "Giám Đốc Nhiều Cách Viết")
    local, domain = director.split("@")
    sender = spelling.format(local=local, domain=domain, LOCAL=local.upper(), DOMAIN=domain.upper())
    code, reply = mail_from(smtpd, sender)
    assert code == 553, (sender, code, reply)


def test_a_retired_officials_address_is_still_ours(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    """Retired: no mail is delivered to it any more, but nobody may send as it without logging in."""
    uid, former = new_mailbox(services, unit, "Nguyên Giám Đốc Hưu Trí")
    _, staff = new_mailbox(services, unit, "Nhân Viên Nhận Thư Giả")
    services.mailboxes.retire(uid)
    with smtpd.inbound() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        client.sendmail(former, [staff], message(former, staff))
    assert refused.value.smtp_code == 553
