"""SMTP AUTH spraying many usernames from one address (round 5): the per-address budget stops it whatever
names are typed (real uids, their addresses in capitals, unknown names), no account is locked, and the
owners log in from elsewhere (held)."""

from __future__ import annotations

import smtplib

from mailadmin.model import Unit
from mailadmin.smtp.auth import FAILURES_PER_SOURCE
from mailadmin.wiring import Services
from tests.smtp.conftest import PASSWORD, RunningSmtpd, client_tls, new_mailbox

SPRAYER, OWNER = "127.0.0.5", "127.0.0.6"


def auth(smtpd: RunningSmtpd, login: str, password: str, source: str) -> int:
    with smtplib.SMTP("127.0.0.1", smtpd.ports.submission_port, timeout=30, source_address=(source, 0)) as client:
        client.starttls(context=client_tls())
        client.ehlo()
        client.user, client.password = login, password
        try:
            return client.auth("PLAIN", client.auth_plain)[0]
        except smtplib.SMTPResponseException as refused:
            return refused.smtp_code


def test_spraying_many_usernames_from_one_address_is_stopped(smtpd: RunningSmtpd, services: Services,
                                                             unit: Unit) -> None:
    people = [new_mailbox(services, unit, f"Phun Văn Thử {n}") for n in ("Một", "Hai", "Ba", "Bốn", "Năm")]
    names = [name for uid, mail in people for name in (uid, mail.upper())]
    names += [f"khong-co-ai-{n}" for n in range(FAILURES_PER_SOURCE + 10 - len(names))]
    codes = [auth(smtpd, name, "Mat-khau-doan-2026", SPRAYER) for name in names]
    assert codes == [535] * FAILURES_PER_SOURCE + [454] * (len(names) - FAILURES_PER_SOURCE)
    assert auth(smtpd, people[0][0], PASSWORD, SPRAYER) == 454  # the right password too: no bind at all
    for uid, _ in people:
        assert services.mailboxes.store.lock_state(services.mailboxes.store.find_entry(uid).dn)[0] == ""
    assert auth(smtpd, people[0][0], PASSWORD, OWNER) == 235
