"""smtp.sender set to a real mailbox: mailadmin's own mail goes out, a stranger may not borrow the address.

mailadmin hands its welcome and reminder mails to the inbound port without AUTH (services/notify.py), from
the machine it runs on. The exemption for its sender address holds for clients on a trusted network only
(Postfix's mynetworks; by default loopback and the address the service listens on). Every test client here
connects from 127.0.0.1, so "a stranger" is a service whose trusted networks leave loopback out.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.errors import ConfigError
from mailadmin.model import Unit
from mailadmin.smtp.config import mail_routing, smtp_config, trusted_networks
from mailadmin.wiring import Services
from tests.conftest import make_settings
from tests.smtp.conftest import PASSWORD, RunningSmtpd, client_tls, message, new_mailbox, start_smtpd

ELSEWHERE = (ipaddress.ip_network("192.0.2.0/24"),)  # TEST-NET-1: no test client comes from there


@pytest.fixture
def centre(services: Services, unit: Unit) -> tuple[str, str]:
    """The IT centre's real mailbox, used as smtp.sender: (uid, address)."""
    return new_mailbox(services, unit, "Trung Tâm Dịch Vụ Thư")


@pytest.fixture
def untrusted(smtpd: RunningSmtpd, services: Services, centre: tuple[str, str]) -> Iterator[RunningSmtpd]:
    """The service with the centre's address as its sender, seen from a network it does not trust."""
    routing = mail_routing(services.settings)
    config = dataclasses.replace(smtpd.config, service_sender=centre[1], trusted_networks=ELSEWHERE)
    thread, running = start_smtpd(config, routing)
    yield running
    thread.stop()
    routing.close()


def test_a_stranger_may_not_send_as_the_services_sender_mailbox(untrusted: RunningSmtpd, services: Services,
                                                                 unit: Unit, centre: tuple[str, str]) -> None:
    uid, staff = new_mailbox(services, unit, "Nhân Viên Bị Mạo Danh")
    for claimed in (centre[1], centre[1].upper()):
        with untrusted.inbound() as client, pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(claimed, [staff], message(claimed, staff))
        assert refused.value.smtp_code == 553 and b"authenticat" in refused.value.smtp_error.lower(), claimed
    assert untrusted.maildir(uid) == []


def test_the_centre_still_sends_once_logged_in_and_strangers_still_write_in(
        untrusted: RunningSmtpd, services: Services, unit: Unit, centre: tuple[str, str]) -> None:
    uid, staff = new_mailbox(services, unit, "Nhân Viên Vẫn Nhận Thư")
    with untrusted.submission() as client:
        client.login(centre[0], PASSWORD)
        client.sendmail(centre[1], [staff], message(centre[1], staff))
    domain = services.settings.organisation.mail_domain
    with untrusted.inbound() as client:
        client.sendmail("congdan@example.vn", [staff], message("congdan@example.vn", staff))
        client.sendmail(f"noreply@{domain}", [staff], message(f"noreply@{domain}", staff))  # nobody's address
    assert len(untrusted.maildir(uid)) == 3


def test_mailadmins_own_mail_from_a_trusted_network_goes_out(smtpd: RunningSmtpd, services: Services,
                                                              unit: Unit, centre: tuple[str, str]) -> None:
    """The default: loopback is trusted (mailadmin on the same machine), STARTTLS or not."""
    uid, staff = new_mailbox(services, unit, "Nhân Viên Nhận Chào Mừng")
    routing = mail_routing(services.settings)
    thread, running = start_smtpd(dataclasses.replace(smtpd.config, service_sender=centre[1]), routing)
    try:
        with running.inbound() as client:
            client.sendmail(centre[1], [staff], message(centre[1], staff))
        with running.inbound() as client:
            client.starttls(context=client_tls())
            client.sendmail(centre[1], [staff], message(centre[1], staff))
    finally:
        thread.stop()
        routing.close()
    assert len(smtpd.maildir(uid)) == 2


def test_the_default_trusts_loopback_and_the_listening_address(services: Services) -> None:
    config = smtp_config(services.settings)
    assert config.trusts("127.0.0.1") and config.trusts("::1") and config.trusts("::ffff:127.0.0.1")
    assert not config.trusts("192.0.2.7") and not config.trusts("unknown") and not config.trusts("")
    assert trusted_networks("10.20.30.40")[-1] == ipaddress.ip_network("10.20.30.40/32")
    assert trusted_networks("0.0.0.0") == trusted_networks("127.0.0.1") == trusted_networks("mail.example.vn")


def test_more_trusted_networks_are_configured_by_smtp_trusted_networks(tmp_path: Path) -> None:
    """The web admin on another host: its network is added (environment or YAML), beside the defaults."""
    settings = make_settings(tmp_path / "state", MAILADMIN_SMTP_TRUSTED_NETWORKS="10.20.0.0/16, 2001:db8::/32")
    config = smtp_config(settings)
    assert config.trusts("10.20.3.4") and config.trusts("2001:db8::1") and config.trusts("127.0.0.1")
    assert not config.trusts("10.21.0.1")


def test_a_trusted_network_that_is_none_is_a_clear_configuration_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state", MAILADMIN_SMTP_TRUSTED_NETWORKS="10.20.0.0/16,văn phòng")
    with pytest.raises(ConfigError) as refused:
        smtp_config(settings)
    assert "smtp.trusted_networks" in refused.value.message.render("en")
    assert "cần dạng 10.0.0.0/24" in refused.value.message.render("vi")
