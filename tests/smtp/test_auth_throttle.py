"""One client address cannot lock anyone out (issue #10, point 7): per-source throttling of SMTP AUTH.

A real `mailadmin smtpd` with two worker processes and a real `mailadmin serve`: failures are
counted per (address, login) for every process of the host, and stop below ppolicy's lockout.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.smtp.conftest import PASSWORD, client_tls, new_mailbox
from tests.smtp.test_cli import smtpd_environ
from tests.web.test_sessions_live import Browser

STRANGER, OWNER = "127.0.0.1", "127.0.0.2"


@pytest.fixture(scope="module")
def ports(directory: RunningDirectory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int]]:
    """(submission port of a two-worker smtpd, port of a web process), both on the session directory."""
    submission, web = free_port(), free_port()
    environ = {**smtpd_environ(directory, free_port(), submission, tmp_path_factory.mktemp("throttle")),
               "MAILADMIN_SMTP_WORKERS": "2"}
    with mailadmin_process("smtpd", environ=environ) as smtpd, \
            mailadmin_process("serve", "--port", str(web), environ=child_environ(directory)) as serve:
        wait_for_port(submission, smtpd)
        wait_for_port(web, serve)
        yield submission, web


def auth(port: int, login: str, password: str, source: str = STRANGER) -> int:
    """One AUTH PLAIN (smtplib's login() would try LOGIN too after a refusal: two attempts)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0)) as client:
        client.starttls(context=client_tls())
        client.ehlo()
        client.user, client.password = login, password
        try:
            return client.auth("PLAIN", client.auth_plain)[0]
        except smtplib.SMTPResponseException as refused:
            return refused.smtp_code


def web_login(port: int, login: str, password: str, source: str) -> int:
    return Browser(port, source=source).login(login, password)


def test_fifty_wrong_auths_from_one_address_lock_nobody_out(ports: tuple[int, int], services: Services,
                                                            unit: Unit) -> None:
    submission, web = ports
    uid, _ = new_mailbox(services, unit, "Nạn Nhân Khóa")
    below = services.settings.passwords.max_failures - 1
    codes = [auth(submission, uid, f"doan-sai-{n}") for n in range(50)]
    assert codes == [535] * below + [454] * (50 - below)  # no bind at all past the limit
    dn = services.mailboxes.store.find_entry(uid).dn
    assert services.mailboxes.store.lock_state(dn)[0] == ""  # pwdAccountLockedTime never set
    assert web_login(web, uid, "doan-sai", STRANGER) == 429  # the web process counts the same failures
    assert web_login(web, uid, PASSWORD, OWNER) == 302
    assert auth(submission, uid, PASSWORD, OWNER) == 235
    assert services.mailboxes.store.lock_state(dn)[:2] == ("", 0)


def test_an_unknown_account_gets_the_wrong_password_answer(ports: tuple[int, int], services: Services,
                                                           unit: Unit) -> None:
    submission, _ = ports
    uid, _ = new_mailbox(services, unit, "Có Thật Không")
    with smtplib.SMTP("127.0.0.1", submission, timeout=30, source_address=("127.0.0.4", 0)) as client:
        client.starttls(context=client_tls())
        client.ehlo()
        answers = []
        for login in (uid, "khong-ton-tai-ai", f"{uid}@khong.vn"):
            client.user, client.password = login, "sai-mat-khau"
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.auth("PLAIN", client.auth_plain)
            answers.append((refused.value.smtp_code, refused.value.smtp_error))
    assert answers[0] == answers[1] == answers[2] == (535, b"5.7.8 Authentication credentials invalid")


def test_a_locked_account_is_not_told_apart_over_smtp(ports: tuple[int, int], services: Services,
                                                      unit: Unit) -> None:
    submission, _ = ports
    uid, _ = new_mailbox(services, unit, "Bị Khóa Rồi")
    dn = services.mailboxes.store.find_entry(uid).dn
    for _ in range(services.settings.passwords.max_failures):
        services.client.check_password(dn, "sai-mat-khau")
    assert services.mailboxes.store.lock_state(dn)[0]
    assert auth(submission, uid, PASSWORD, "127.0.0.3") == auth(submission, "khong-co-ai", PASSWORD, "127.0.0.3")
