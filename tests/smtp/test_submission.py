"""Submission: STARTTLS before AUTH, AUTH by LDAP bind, refused accounts, sender ownership."""

from __future__ import annotations

import base64
import smtplib
import time

import pytest

from mailadmin.directory import dit
from mailadmin.model import Unit
from mailadmin.passwords import hash_chosen
from mailadmin.services.mailboxes import NewMailbox
from mailadmin.wiring import Services
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
    uid, _ = new_mailbox(services, unit, "Lê Văn Sai Mật")
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


def refusal(smtpd: RunningSmtpd, login: str, password: str, mechanism: str = "PLAIN") -> tuple[int, bytes]:
    """The AUTH refusal (code, text) for these credentials."""
    with smtpd.submission() as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        client.ehlo()
        client.user, client.password = login, password
        client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"), initial_response_ok=True)
    return refused.value.smtp_code, refused.value.smtp_error


def test_a_password_set_by_an_admin_opens_no_mail_until_the_owner_changes_it(smtpd: RunningSmtpd,
                                                                             services: Services, unit: Unit) -> None:
    uid, mail = new_mailbox(services, unit, "Đặng Văn Mật Khẩu Tạm")
    with smtpd.submission() as client:
        assert client.login(uid, PASSWORD)[0] == 235  # the login is now cached: the bind still decides
    initial = services.mailboxes.reset_password(uid)
    assert initial
    for login, mechanism in ((uid, "PLAIN"), (mail, "LOGIN")):
        code, text = refusal(smtpd, login, initial, mechanism)
        assert code == 535 and b"must be changed in the web admin" in text
    assert refusal(smtpd, uid, PASSWORD) == (535, b"5.7.8 Authentication credentials invalid")  # the old one
    services.mailboxes.change_own_password(uid, initial, "Mat-khau-cua-toi-2026")
    with smtpd.submission() as client:
        assert client.login(uid, "Mat-khau-cua-toi-2026")[0] == 235


def test_a_new_account_with_a_generated_password_must_change_it_first(smtpd: RunningSmtpd, services: Services,
                                                                     unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Kiều Thị Mới Cấp", unit_code=unit.code))
    assert created.initial_password
    code, text = refusal(smtpd, created.mailbox.uid, created.initial_password)
    assert code == 535 and b"must be changed in the web admin" in text
    assert refusal(smtpd, created.mailbox.uid, "sai-mat-khau-roi")[1] == b"5.7.8 Authentication credentials invalid"


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


def test_an_expired_password_must_be_changed_first(smtpd: RunningSmtpd, services: Services, unit: Unit) -> None:
    """A policy whose passwords last one second: once it passed, slapd reports passwordExpired."""
    base = services.client.base_dn
    name = f"het-han-{unit.code.lower()}"
    policy = f"cn={name},ou={dit.POLICIES_OU},{base}"
    services.client.add(policy, {"objectClass": ["organizationalRole", "pwdPolicy"], "cn": [name],
                                 "pwdAttribute": ["userPassword"], "pwdMaxAge": ["1"], "pwdAllowUserChange": ["TRUE"]})
    uid, _ = new_mailbox(services, unit, "Tôn Thất Hết Hạn")
    dn = services.mailboxes.store.find_entry(uid).dn
    services.client.modify(dn, {"pwdPolicySubentry": ("replace", [policy])})
    # changed now, under the one-second policy (the store: the service refuses a password in use)
    services.mailboxes.store.set_password(dn, hash_chosen(PASSWORD, services.settings.passwords))
    services.mailboxes.store.clear_password_reset(dn)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and refusal_or_none(smtpd, uid) is None:
        time.sleep(0.2)  # waiting for the clock, not measuring it
    code, text = refusal(smtpd, uid, PASSWORD)
    assert code == 535 and b"must be changed in the web admin" in text


def refusal_or_none(smtpd: RunningSmtpd, uid: str) -> tuple[int, bytes] | None:
    with smtpd.submission() as client:
        try:
            client.login(uid, PASSWORD)
        except smtplib.SMTPAuthenticationError as refused:
            return refused.smtp_code, refused.smtp_error
    return None
