"""A bulk job (issue 13) whose slapd freezes (SIGSTOP) in the middle of the apply and wakes up (SIGCONT) later.

A frozen server is not a dead one: the connection stays open, the writes already sent sit in its socket and
are carried out when it wakes, perhaps after the client gave up waiting (ldap.receive_timeout). Whatever the
timing, the job must end as an uninterrupted run does, or stop with a clear error, stay resumable, and
`mailadmin bulk resume` must then end it there, each mailbox written and audited once. The apply is the one
the web's bulk form starts (BulkService.apply, with its progress callback as the hook that freezes slapd).

A freeze that outlasts the wait while a commit is unanswered stops the job in doubt (errors.CommitInDoubt): slapd
may still carry the commit out when it wakes, so a resume is refused while it accepts connections and answers
nothing, and goes ahead once it answers again.

Found with it (round 6): slapd 2.5.13 aborts when it wakes to find that the client closed a connection with
a transaction open (`connection_destroy: Assertion c->c_txn == CONN_TXN_INACTIVE failed`, SIGABRT), i.e.
whenever the client gives up on a transaction. The job still ends right once slapd is started again; the
test then reports the abort as an expected failure. Round 7: the client leaves such connections to the socket
keeper, which drains them until slapd is done (BulkWriter.close). That had not helped before because ldap3's
receiver thread shut the connection itself after the connect timeout; with that fixed, no abort was seen.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailadmin.directory import pipeline
from mailadmin.errors import CommitInDoubt, DirectoryUnavailable
from mailadmin.importer.journal import Job
from mailadmin.model import Status
from tests.conftest import RunningDirectory, eventually, make_agency, make_settings
from tests.test_bulk_slapd_killed import _same, cli, dump, staff, start, super_admin, written_once

pytestmark = pytest.mark.slow

TCP_CLOSE_WAIT = "08"  # /proc/net/tcp: the peer closed, the owner has not yet
BATCH = 10  # writes per LDAP transaction (as tests/test_bulk_slapd_killed.py)
STOP_AFTER = 35
RECEIVE_TIMEOUT = 2  # seconds the client waits for an answer before it counts the server as down
STILL_FROZEN_FOR = 3  # seconds of the freeze left at least, to try a resume that must be refused


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningDirectory]:
    """A slapd of the test's own (it is frozen), small transactions, a short wait for answers."""
    directory = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_IMPORTS_BATCH_SIZE=str(BATCH),
                                               MAILADMIN_LDAP_RECEIVE_TIMEOUT=str(RECEIVE_TIMEOUT)))
    yield directory
    directory.stop()


def apply_with_a_freeze(running: RunningDirectory, job: Job, frozen_for: float) -> dict[str, object] | None:
    """Apply the job, freezing slapd once STOP_AFTER mailboxes are done and waking it `frozen_for` seconds
    later; the summary, or None when the apply stopped on DirectoryUnavailable (with a message in both
    languages)."""
    pid = running.slapd.running_pid()
    assert pid is not None
    woken: list[threading.Timer] = []

    wakes_at: list[float] = []

    def freeze(done: int, _total: int) -> None:
        if done >= STOP_AFTER and not woken:
            os.kill(pid, signal.SIGSTOP)
            wakes_at.append(time.monotonic() + frozen_for)
            woken.append(threading.Timer(frozen_for, os.kill, (pid, signal.SIGCONT)))
            woken[0].start()

    summary: dict[str, object] | None = None
    try:
        summary = running.services.bulk.apply(job, freeze)
    except DirectoryUnavailable as error:
        assert error.message.render("vi") and error.message.render("en"), error.message
        assert job.state == "applying", job.state
        if isinstance(error, CommitInDoubt) and wakes_at[0] - time.monotonic() > STILL_FROZEN_FOR:
            with pytest.raises(CommitInDoubt, match="still accepts connections and answers nothing"):
                running.services.bulk.resume(job.id)  # slapd may yet commit what it holds
    finally:
        for timer in woken:
            timer.join()
        os.kill(pid, signal.SIGCONT)  # never leave it frozen, whatever happened
    assert woken, "slapd was never frozen: the job ended before STOP_AFTER"
    return summary


def closed_connections_handled(running: RunningDirectory) -> None:
    """Until no connection to slapd waits for slapd to see that its client closed it (or slapd is gone)."""
    port = f":{running.settings.slapd.port:04X}"

    def settled() -> None:
        lines = [line for table in ("tcp", "tcp6") if Path(f"/proc/net/{table}").exists()
                 for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]]
        waiting = [line for line in lines if line.split()[1].endswith(port) and line.split()[3] == TCP_CLOSE_WAIT]
        assert waiting == [] or running.slapd.running_pid() is None, waiting

    eventually(settled, seconds=30)


def started_again_if_dead(running: RunningDirectory, pid: int) -> str:
    """'' if slapd `pid` survived; else its last words, after reaping it and starting a new one."""
    if running.slapd.running_pid() == pid:
        return ""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass  # reaped already
    words = (running.slapd.paths.root / "slapd.stderr").read_text(errors="replace").strip().splitlines()
    running.slapd.start()
    return words[-1] if words else "(nothing on standard error)"


@pytest.mark.parametrize("frozen_for", [0.5, 5 * RECEIVE_TIMEOUT], ids=["shorter-than-the-wait", "past-the-wait"])
@pytest.mark.parametrize("action", ["suspend", "move"])
def test_slapd_frozen_mid_apply_ends_like_an_uninterrupted_run(running: RunningDirectory, action: str,
                                                               frozen_for: float) -> None:
    services = running.services
    home = make_agency(services, "F", "Đơn vị bị treo")
    target = make_agency(services, "D", "Đơn vị đích") if action == "move" else None
    uids, admin = staff(services, home), super_admin(services, home)
    before = dump(services)

    uninterrupted = start(services, admin, action, uids, target)
    summary = services.bulk.apply(uninterrupted)
    assert summary["failed_count"] == 0
    wanted = dump(services)
    services.bulk.undo(uninterrupted.id)
    assert dump(services) == before

    job = start(services, admin, action, uids, target)
    pid = running.slapd.running_pid()
    assert pid is not None
    ended = apply_with_a_freeze(running, job, frozen_for)
    closed_connections_handled(running)
    aborted = started_again_if_dead(running, pid)
    if ended is None:
        ended = cli(running, "resume", job.id)
    assert (ended["state"], ended["done"], ended["failed_count"]) == ("done", summary["done"], 0), ended
    eventually(lambda: _same(dump(services), wanted), seconds=30)
    changed = [record["subject"] for record in job.records() if record["kind"] != "unchanged"]
    written_once(services, changed, "mailbox.move" if action == "move" else "mailbox.suspended", job.id)
    if aborted:
        pytest.xfail(f"slapd 2.5.13 died when it woke up: {aborted} (a transaction's connection closed under it; "
                     "a supervisor restarts slapd)")


def test_frozen_while_it_holds_a_commit_the_job_stops_in_doubt_and_resumes_once_slapd_answers(
        running: RunningDirectory, monkeypatch: pytest.MonkeyPatch) -> None:
    """slapd frozen right after it was sent a transaction's end: it may commit on waking, so the job stops in
    doubt, naming the server; a resume is refused while slapd accepts connections and answers nothing, and ends
    the job once it answers, each mailbox written and audited once (errors.CommitInDoubt)."""
    services = running.services
    home = make_agency(services, "G", "Đơn vị giữ lệnh ghi")
    uids, admin = staff(services, home), super_admin(services, home)
    job = start(services, admin, "suspend", uids, None)
    pid = running.slapd.running_pid()
    assert pid is not None
    ends: list[int] = []
    woken: list[threading.Timer] = []
    send_end = pipeline._Pending._send_end

    def freeze_after_the_third_end(pending: pipeline._Pending) -> None:
        send_end(pending)
        ends.append(1)
        if len(ends) == 3:  # the end is in slapd's socket (or being carried out) when it stops
            os.kill(pid, signal.SIGSTOP)
            woken.append(threading.Timer(5 * RECEIVE_TIMEOUT, os.kill, (pid, signal.SIGCONT)))
            woken[0].start()
    monkeypatch.setattr(pipeline._Pending, "_send_end", freeze_after_the_third_end)
    try:
        with pytest.raises(CommitInDoubt) as stopped:
            services.bulk.apply(job)
        server = running.slapd.uri
        assert stopped.value.server == job.in_doubt == services.bulk.status(job)["in_doubt"] == server
        assert server in stopped.value.message.render("vi") and server in stopped.value.message.render("en")
        with pytest.raises(CommitInDoubt, match="still accepts connections and answers nothing"):
            services.bulk.resume(job.id)
    finally:
        for timer in woken:
            timer.join()
        os.kill(pid, signal.SIGCONT)
    monkeypatch.undo()
    closed_connections_handled(running)
    aborted = started_again_if_dead(running, pid)
    ended = cli(running, "resume", job.id)
    changed = [record["subject"] for record in job.records() if record["kind"] != "unchanged"]
    assert (ended["state"], ended["failed_count"]) == ("done", 0), ended
    assert job.in_doubt is None
    assert len(changed) > 3 * BATCH and {services.mailboxes.get(uid).status for uid in changed} == {Status.SUSPENDED}
    written_once(services, changed, "mailbox.suspended", job.id)
    print(f"\nslapd frozen holding a commit: the job stopped in doubt, a resume was refused while it was frozen "
          f"and ended the job once it answered{' (slapd died on waking: ' + aborted + ')' if aborted else ''}")


def test_a_bulk_job_waits_out_the_receive_timeout_not_the_connect_timeout(tmp_path: Path) -> None:
    """`ldap.receive_timeout` is how long a bulk job waits for slapd to answer. ldap3 left the connect timeout on
    its asynchronous sockets, so its receiver thread closed a bulk connection silent for `ldap.connect_timeout`
    (3 s by default): a slapd busy for longer than that (a slow disk, a long commit) had its connection, and
    the transaction on it, shut under it, and the job stopped."""
    directory = RunningDirectory(make_settings(tmp_path / "state", MAILADMIN_IMPORTS_BATCH_SIZE=str(BATCH),
                                               MAILADMIN_LDAP_CONNECT_TIMEOUT="1",
                                               MAILADMIN_LDAP_RECEIVE_TIMEOUT=str(4 * RECEIVE_TIMEOUT)))
    try:
        services = directory.services
        home = make_agency(services, "C", "Đơn vị chậm")
        uids, admin = staff(services, home), super_admin(services, home)
        job = start(services, admin, "suspend", uids, None)
        summary = apply_with_a_freeze(directory, job, 3.0)
        assert summary is not None, "the job stopped: the connection was closed before ldap.receive_timeout"
        assert (summary["state"], summary["failed_count"]) == ("done", 0), summary
    finally:
        directory.stop()
