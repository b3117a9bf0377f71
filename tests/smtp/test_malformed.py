"""Malformed envelopes and passwords SASLprep refuses: SMTP errors, never `500 Error: (…)` or a traceback."""

from __future__ import annotations

import base64
import logging

import pytest

from mailadmin.model import Unit
from mailadmin.wiring import Services
from tests.smtp.conftest import RunningSmtpd, new_mailbox


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("argument", ["FROM:<", "FROM:< ", "FROM:<\"", "FROM:<@", "FROM:<a@"])
def test_truncated_mail_from_is_a_syntax_error(smtpd: RunningSmtpd, caplog: pytest.LogCaptureFixture,
                                               argument: str) -> None:
    with smtpd.inbound() as client:
        client.ehlo()
        code, reply = client.docmd("MAIL", argument)
        assert 500 < code < 600 and b"Error: (" not in reply, reply
        assert client.noop()[0] == 250
    _no_errors_logged(caplog)


@pytest.mark.parametrize("argument", ["TO:<", "TO:<\""])
def test_truncated_rcpt_to_is_a_syntax_error(smtpd: RunningSmtpd, caplog: pytest.LogCaptureFixture,
                                             argument: str) -> None:
    with smtpd.inbound() as client:
        client.ehlo()
        assert client.mail("ai@example.org")[0] == 250
        code, reply = client.docmd("RCPT", argument)
        assert 500 < code < 600 and b"Error: (" not in reply, reply
    _no_errors_logged(caplog)


@pytest.mark.parametrize("password", ["mat\x07khau", "a\u200fb", "x\ufffey", "\x1b[31m"])
def test_password_saslprep_refuses_is_a_wrong_password(smtpd: RunningSmtpd, services: Services, unit: Unit,
                                                       caplog: pytest.LogCaptureFixture, password: str) -> None:
    _, mail = new_mailbox(services, unit, "Đỗ Văn Ký Tự")
    plain = base64.b64encode(f"\0{mail}\0{password}".encode()).decode()
    with smtpd.submission() as client:
        client.ehlo()
        code, reply = client.docmd("AUTH", f"PLAIN {plain}")
        assert (code, reply[:5]) == (535, b"5.7.8"), reply
        assert client.noop()[0] == 250
    _no_errors_logged(caplog)
