"""The one login service (services/auth.py) against the real slapd: same work for strangers, locks, outages."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from mailadmin.model import Unit
from mailadmin.passwords import matches
from mailadmin.services.auth import LoginService, LoginThrottle, Result, admin_logins, decoy_dn
from mailadmin.services.mailboxes import LockState, NewMailbox
from mailadmin.services.throttle import FailureLimiter
from mailadmin.smtp.auth import smtp_logins
from mailadmin.smtp.config import mail_routing, smtp_config
from mailadmin.wiring import Services
from tests.conftest import RunningDirectory, child_environ, free_port, mailadmin_process, wait_for_port
from tests.web.test_sessions_live import Browser

PASSWORD = "Song-Ba-chay-ra-bien-2026"


@pytest.fixture
def logins(services: Services) -> Iterator[LoginService]:
    service = admin_logins(services.roles, services.client.config, services.settings, None)
    yield service
    service.close()


@pytest.fixture
def owner(services: Services, unit: Unit) -> str:
    created = services.mailboxes.add(NewMailbox(full_name="Đăng Nhập Một", unit_code=unit.code, password=PASSWORD))
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(created.mailbox.uid).dn)
    return created.mailbox.uid


def bind_counters(services: Services) -> tuple[int, int]:
    """slapd's counts of binds (cn=Monitor): (completed, initiated but not yet completed)."""
    entry = services.client.get("cn=Bind,cn=Operations,cn=Monitor", ["monitorOpInitiated", "monitorOpCompleted"])
    assert entry is not None
    completed = int(entry.text("monitorOpCompleted"))
    return completed, int(entry.text("monitorOpInitiated")) - completed


def binds_completed_since(services: Services, before: tuple[int, int]) -> int:
    """Binds completed since `before`, once none is in flight beyond what was then.

    slapd counts an operation completed only after sending its result, so a count read as soon as
    the client has its answer can miss that very bind (seen under CI load: 0 binds counted). The
    in-flight figure is compared with the one before, not with 0: slapd folds an exiting thread's
    counts into a lasting offset (directory/client.py, _counted)."""
    deadline = time.monotonic() + 2
    while True:
        completed, in_flight = bind_counters(services)
        if in_flight <= before[1] or time.monotonic() > deadline:
            return completed - before[0]
        time.sleep(0.005)


def binds_of(services: Services, logins: LoginService, login: str, source: str) -> int:
    """Binds slapd completed during one refused login: the fewest over up to three tries (the pools of
    the test's own clients may open, and bind, a connection meanwhile)."""
    counts: list[int] = []
    while len(counts) < 3 and 1 not in counts:
        before = bind_counters(services)
        assert logins.login(login, "sai-mat-khau", f"{source}.{len(counts)}").result is Result.REFUSED
        counts.append(binds_completed_since(services, before))
    return min(counts)


def test_an_unknown_account_costs_one_bind_like_a_wrong_password(logins: LoginService, owner: str,
                                                                 services: Services) -> None:
    """The decoy entry (argon2id at the configured cost) is bound: the same work, the same answer."""
    counts = [binds_of(services, logins, login, f"10.1.{n}")
              for n, login in enumerate((owner, "khong-ton-tai", "ai@khong.phuyen.gov.vn"))]
    assert counts == [1, 1, 1]
    decoy = services.client.get(decoy_dn(services.client.base_dn), ["pwdFailureTime", "pwdAccountLockedTime"])
    assert decoy is not None and not decoy.raw("pwdAccountLockedTime")  # never locked (it would answer fast)


def test_the_decoy_records_failures_like_a_person_but_never_locks(logins: LoginService, services: Services) -> None:
    """Each failed bind of a person writes pwdFailureTime: the decoy's does too, kept to max_failures."""
    dn = decoy_dn(services.client.base_dn)
    for number in range(services.settings.passwords.max_failures + 3):
        logins.login(f"khong-co-{number}", "sai-mat-khau", f"10.11.0.{number}")
    decoy = services.client.get(dn, ["pwdFailureTime", "pwdAccountLockedTime"])
    assert decoy is not None and not decoy.raw("pwdAccountLockedTime")
    assert len(decoy.raw("pwdFailureTime")) == services.settings.passwords.max_failures


def test_the_owner_of_a_locked_account_learns_when_it_ends(logins: LoginService, owner: str,
                                                           services: Services) -> None:
    dn = services.mailboxes.store.find_entry(owner).dn
    for _ in range(services.settings.passwords.max_failures):
        services.client.check_password(dn, "sai-mat-khau")
    locked_at = services.mailboxes.store.lock_state(dn)[0]
    assert locked_at
    assert logins.login(owner, "sai-mat-khau", "10.2.0.1").result is Result.REFUSED  # a stranger: nothing
    outcome = logins.login(owner, PASSWORD, "10.2.0.1")
    started = datetime.strptime(locked_at[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert outcome.result is Result.LOCKED and outcome.account is None
    assert outcome.locked_until == started + timedelta(seconds=services.settings.passwords.lockout_seconds)
    services.mailboxes.unlock(owner)
    assert logins.login(owner, PASSWORD, "10.2.0.1").result is Result.OK


def test_a_suspended_account_is_explained_only_with_its_password(logins: LoginService, owner: str,
                                                                 services: Services) -> None:
    services.mailboxes.suspend(owner)
    assert logins.login(owner, "sai-mat-khau", "10.3.0.1").result is Result.REFUSED
    outcome = logins.login(owner, PASSWORD, "10.3.0.1")
    assert outcome.result is Result.LOCKED and outcome.locked_until is None


def test_a_generated_password_must_be_changed(logins: LoginService, services: Services, unit: Unit) -> None:
    created = services.mailboxes.add(NewMailbox(full_name="Mới Tạo Xong", unit_code=unit.code))
    outcome = logins.login(created.mailbox.uid, created.initial_password or "", "10.4.0.1")
    assert outcome.result is Result.MUST_CHANGE and outcome.account is not None


def test_argon2_hashes_made_by_slapd_verify_locally_after_the_nul(services: Services, owner: str) -> None:
    """slapd's argon2 module stores a NUL and stray bytes after hashes it made (Password Modify)."""
    dn = services.mailboxes.store.find_entry(owner).dn
    services.client.change_own_password(dn, PASSWORD, "Mat-khau-slapd-bam-2026")
    holder = services.roles.holder_for_login(owner)
    assert holder is not None and holder.password_hash.startswith("{ARGON2}") and "\0" not in holder.password_hash
    assert matches("Mat-khau-slapd-bam-2026", holder.password_hash) and not matches(PASSWORD, holder.password_hash)


def test_the_throttle_window_slides_with_the_clock(tmp_path: object) -> None:
    now = [1000.0]
    throttle = LoginThrottle(5, 900, None, "web", clock=lambda: now[0])
    for _ in range(4):
        throttle.fail("10.5.0.1", "annv", None)
    assert throttle.blocked("10.5.0.1", "annv") and not throttle.blocked("10.5.0.2", "annv")
    now[0] += 901
    assert not throttle.blocked("10.5.0.1", "annv")


def test_failures_are_shared_through_the_file(tmp_path: object) -> None:
    path = tmp_path / "logins.sqlite3"  # type: ignore[operator]
    first, second = FailureLimiter(2, 60, path), FailureLimiter(2, 60, path)
    first.fail("k")
    second.fail("k")
    assert first.blocked("k") and second.count("k") == 2
    second.clear("k")
    assert not first.blocked("k")


@pytest.mark.parametrize("outage", ["down", "hung"])
def test_a_directory_outage_during_web_login_is_503_and_not_counted(fresh_directory: RunningDirectory,
                                                                     outage: str) -> None:
    services = fresh_directory.services
    uid = services.mailboxes.add(NewMailbox(full_name="Chờ Thư Mục", unit_code="555", password=PASSWORD)).mailbox.uid
    services.mailboxes.store.clear_password_reset(services.mailboxes.store.find_entry(uid).dn)
    port = free_port()
    environ = child_environ(fresh_directory, ldap_receive_timeout="2", ldap_connect_timeout="2")
    with mailadmin_process("serve", "--port", str(port), environ=environ) as process:
        wait_for_port(port, process)
        browser = Browser(port)
        assert browser.request("GET", "/login")[0] == 200
        pid = fresh_directory.slapd.running_pid()
        _interrupt(fresh_directory, outage, pid)
        try:
            for _ in range(services.settings.passwords.max_failures + 1):
                status, _, page = browser.request("POST", "/login", {"username": uid, "password": "sai-mat-khau",
                                                                     "csrf_token": _token(browser)})
                assert status == 503 and "Thư mục tài khoản (LDAP) đang không phản hồi" in page
        finally:
            _resume(fresh_directory, outage, pid)
        assert browser.login(uid, PASSWORD) == 302  # nothing was counted during the outage


def _token(browser: Browser) -> str:
    return browser.csrf("/login")


def _interrupt(directory: RunningDirectory, outage: str, pid: int | None) -> None:
    if outage == "down":
        directory.slapd.stop()
    else:
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # accepts connections (the kernel's backlog), never answers


def _resume(directory: RunningDirectory, outage: str, pid: int | None) -> None:
    if outage == "down":
        directory.slapd.start()
    else:
        assert pid is not None
        os.kill(pid, signal.SIGCONT)


def test_a_locked_account_costs_the_same_one_bind(logins: LoginService, owner: str, services: Services) -> None:
    """slapd refuses a locked account without checking the password: the decoy is bound instead."""
    dn = services.mailboxes.store.find_entry(owner).dn
    services.client.modify(dn, {"pwdAccountLockedTime": ("replace", [datetime.now(UTC).strftime("%Y%m%d%H%M%SZ")])})
    assert binds_of(services, logins, owner, "10.6.0") == 1


def test_an_expired_lock_is_bound_so_that_slapd_lifts_it(logins: LoginService, owner: str,
                                                         services: Services) -> None:
    dn = services.mailboxes.store.find_entry(owner).dn
    services.client.modify(dn, {"pwdAccountLockedTime": ("replace", ["20000101000000Z"])})
    assert logins.login(owner, PASSWORD, "10.7.0.1").result is Result.OK
    assert services.mailboxes.store.lock_state(dn)[0] == ""


def test_smtp_logins_cost_one_bind_whatever_the_account(services: Services, owner: str, unit: Unit) -> None:
    """The mail-server account's path: wrong password, unknown, suspended and locked bind once each."""
    suspended = services.mailboxes.add(NewMailbox(full_name="Tạm Khóa Thư", unit_code=unit.code,
                                                  password=PASSWORD)).mailbox.uid
    services.mailboxes.suspend(suspended)
    locked = services.mailboxes.add(NewMailbox(full_name="Khóa Thư Khác", unit_code=unit.code,
                                               password=PASSWORD)).mailbox.uid
    services.client.modify(services.mailboxes.store.find_entry(locked).dn, {
        "pwdAccountLockedTime": ("replace", [datetime.now(UTC).strftime("%Y%m%d%H%M%SZ")])})
    routing = mail_routing(services.settings)
    logins = smtp_logins(routing, dataclasses.replace(smtp_config(services.settings), throttle_file=None))
    try:
        logins.login(owner, "khoi-dong", "10.8.9.9")  # the service's own connections bind once, first
        for number, login in enumerate((owner, "khong-co-ai", suspended, locked)):
            assert binds_of(services, logins, login, f"10.8.{number}") == 1, login
        assert logins.login(locked, PASSWORD, "10.8.1.1").result is Result.REFUSED  # never explained over SMTP
    finally:
        routing.close()


def test_every_address_of_an_account_shares_one_budget(logins: LoginService, services: Services,
                                                       unit: Unit) -> None:
    """Cycling through uid, address and aliases must not multiply the failures one source may make."""
    created = services.mailboxes.add(NewMailbox(full_name="Nhiều Địa Chỉ", unit_code=unit.code, password=PASSWORD,
                                                aliases=("nhieu.dia.chi@phuyen.gov.vn", "ndc@phuyen.gov.vn")))
    mailbox = created.mailbox
    names = [mailbox.uid, mailbox.mail, *mailbox.aliases, mailbox.uid.upper()]
    results = [logins.login(names[n % len(names)], "sai-mat-khau", "10.10.0.1").result for n in range(12)]
    assert results == [Result.REFUSED] * 10 + [Result.THROTTLED] * 2  # then the address's own limit (10)
    below = services.settings.passwords.max_failures - 1
    assert services.mailboxes.lock_state(mailbox.uid) == LockState(False, None, below)  # the rest bound the decoy


def test_the_throttle_tells_nobody_which_names_share_an_account(logins: LoginService, owner: str,
                                                                services: Services) -> None:
    """Past the limit on one name, another name of the same account answers as an unknown name would."""
    mail = services.mailboxes.get(owner).mail
    for _ in range(services.settings.passwords.max_failures - 1):
        logins.login(owner, "sai-mat-khau", "10.12.0.1")
    assert logins.login(owner, "sai-mat-khau", "10.12.0.1").result is Result.THROTTLED
    assert logins.login(mail, "sai-mat-khau", "10.12.0.1").result is Result.REFUSED  # like any other name
    assert logins.login(mail, PASSWORD, "10.12.0.1").result is Result.REFUSED  # shut to this address only
    assert not services.mailboxes.lock_state(owner).locked
    assert logins.login(mail, PASSWORD, "10.12.0.2").result is Result.OK
