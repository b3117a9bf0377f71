"""Submission: STARTTLS before AUTH, AUTH by LDAP bind, refused accounts, sender ownership."""

from __future__ import annotations

import base64
import smtplib

import pytest

from mailadmin.model import Unit
from mailadmin.services.context import Services
from tests.smtp.conftest import PASSWORD, RunningSmtpd, message, new_mailbox


def test_auth_is_not_offered_before_starttls(smtpd: RunningSmtpd) -> None:
    with smtpd.submission(tls=False) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")
        code, _ = client.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0a\0b").decode())
        assert code == 530  # must issue STARTTLS first


def test_plain_and_login_authenticate_by_ldap_bind(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    uid, mail = new_mailbox(services, unit, "Trần Thị Gửi Thư")
    for mechanism, login in (("PLAIN", uid), ("LOGIN", mail)):
        with smtpd.submission() as client:
            client.ehlo()
            assert mechanism in client.esmtp_features["auth"].split()
            client.user, client.password = login, PASSWORD
            code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=True)
            assert code == 235


@pytest.mark.parametrize(("login", "password"), [
    ("{uid}", "sai-mat-khau-roi"), ("khongtontai", PASSWORD), ("*)(uid=*", "*"), ("{uid}", ""),
    ("{uid}", "x" * 700)])
def test_wrong_password_and_unknown_user_are_refused(smtpd: RunningSmtpd, services: Services, unit: Unit,
                                                     login: str, password: str) -> None:
    uid, _ = new_mailbox(services, unit, "Lê Văn Sai Mật Khẩu")
    with smtpd.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.login(login.format(uid=uid), password)
    assert refused.value.smtp_code == 535


def test_suspended_and_retired_accounts_are_refused(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    uid, _ = new_mailbox(services, unit, "Phạm Văn Tạm Ngưng")
    services.mailboxes.suspend(uid)
    with smtpd.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(uid, PASSWORD)
    services.mailboxes.resume(uid)
    with smtpd.submission() as client:
        assert client.login(uid, PASSWORD)[0] == 235
    services.mailboxes.retire(uid)
    with smtpd.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(uid, PASSWORD)


def test_sender_may_use_own_address_and_aliases_only(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    domain = services.settings.organisation.mail_domain
    alias = f"vanthu-{unit.code.lower()}@{domain}"
    uid, mail = new_mailbox(services, unit, "Ngô Thị Văn Thư", alias)
    other_uid, other_mail = new_mailbox(services, unit, "Đỗ Văn Người Nhận")
    with smtpd.submission() as client:
        client.login(uid, PASSWORD)
        for sender in (mail, alias.upper()):
            client.sendmail(sender, [other_mail], message(sender, other_mail))
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail(other_mail, [other_mail], message(other_mail, other_mail))
        assert refused.value.smtp_code == 553
    assert len(smtpd.maildir(other_uid)) == 2


def test_authenticated_mail_to_other_domains_is_queued_not_refused(smtpd: RunningSmtpd, services: Services,
                                                                   unit: Unit) -> None:
    uid, mail = new_mailbox(services, unit, "Vũ Văn Gửi Ra Ngoài")
    with smtpd.submission() as client:
        client.login(uid, PASSWORD)
        client.sendmail(mail, ["ban@example.org"], message(mail, "ban@example.org", subject="ra ngoài"))
    queued = [p.read_bytes() for p in (smtpd.config.outbound / "new").iterdir()]
    assert any(b"ra ngo" in item or b"Subject:" in item for item in queued)


def test_mail_before_auth_on_submission_is_refused(smtpd: RunningSmtpd) -> None:
    with smtpd.submission() as client:
        client.ehlo()
        code, _ = client.docmd("MAIL", "FROM:<ai@example.org>")
        assert code == 530


def test_cached_logins_follow_moves_and_suspensions(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    uid, _ = new_mailbox(services, unit, "Bạch Văn Chuyển Đơn Vị")
    with smtpd.submission() as client:
        assert client.login(uid, PASSWORD)[0] == 235  # the login -> DN lookup is now cached
    services.mailboxes.move(uid, "STTTT")  # the cached DN is stale
    with smtpd.submission() as client:
        assert client.login(uid, PASSWORD)[0] == 235
    services.mailboxes.suspend(uid)
    with smtpd.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError):
        client.login(uid, PASSWORD)
