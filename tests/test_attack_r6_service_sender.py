"""mailadmin's own sender (smtp.sender) exempt from the stranger check on trusted networks (round 6): the
exemption is for unauthenticated mail from where mailadmin connects, not a way round the login's own check.
A logged-in member of staff, even from loopback, may not send as the service's mailbox, nor may a stranger
on a trusted network send as any other mailbox; HELO names mailadmin's own host changes nothing (held)."""

from __future__ import annotations

import dataclasses
import smtplib
from collections.abc import Iterator

import pytest

from mailadmin.model import Unit
from mailadmin.smtp.config import mail_routing
from mailadmin.wiring import Services
from tests.smtp.conftest import PASSWORD, RunningSmtpd, message, new_mailbox, start_smtpd
from tests.smtp.conftest import smtpd as smtpd  # the module's SMTP service (tests/smtp's fixture)


@pytest.fixture
def trusting(smtpd: RunningSmtpd, services: Services, unit: Unit) -> Iterator[tuple[RunningSmtpd, str]]:
    """The service whose sender is the IT centre's real mailbox, seen from loopback (trusted)."""
    _, centre = new_mailbox(services, unit, "Trung Tâm Gửi Thư Hệ Thống")
    routing = mail_routing(services.settings)
    thread, running = start_smtpd(dataclasses.replace(smtpd.config, service_sender=centre), routing)
    yield running, centre
    thread.stop()
    routing.close()


def test_a_logged_in_person_may_not_send_as_the_service(trusting: tuple[RunningSmtpd, str], services: Services,
                                                        unit: Unit) -> None:
    running, centre = trusting
    uid, own = new_mailbox(services, unit, "Nhân Viên Mượn Địa Chỉ")
    with running.submission() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
        client.login(uid, PASSWORD)
        client.sendmail(centre, [own], message(centre, own))
    assert refused.value.smtp_code == 553


@pytest.mark.parametrize("helo", ["localhost", "[127.0.0.1]", "mail.phuyen.gov.vn"])
def test_trust_covers_the_services_address_only(trusting: tuple[RunningSmtpd, str], services: Services,
                                                unit: Unit, helo: str) -> None:
    running, centre = trusting
    uid, director = new_mailbox(services, unit, "Giám Đốc Không Bị Mạo Danh")
    for spelling in (director, director.upper(), f'"{director.split("@")[0]}"@{director.split("@")[1]}'):
        with running.inbound() as client:
            client.ehlo(helo)
            code, _ = client.docmd("MAIL", f"FROM:<{spelling}>")
            assert code == 553, spelling
    with running.inbound() as client:
        client.ehlo(helo)
        client.sendmail(centre.upper(), [director], message(centre, director))  # the service itself, any case
    assert len(running.maildir(uid)) == 1
