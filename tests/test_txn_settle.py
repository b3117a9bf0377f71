"""slapd 2.5.13 crashes when a transaction ends while a worker thread still holds one of its writes.

slapd answers a write sent under a transaction (txn_preop's send_ldap_result) before its worker
thread is done with the Operation: do_add still unlinks an OpExtra from op->o_extra (ITS#9892,
2.5.14), fe_op_add/fe_op_modify still set op->o_bd, connection_operation still reads the op. A
TxnEnd (commit or abort), or the connection closing, frees or executes those queued operations in
another thread at once: "segfault at 0 ... in slapd[48209]" (do_add+0x6a9), crashes in back_mdb, or
a glibc mutex assertion. The client sees "slapd closed the connection".
"""

from __future__ import annotations

import threading

import pytest

from tests.conftest import RunningDirectory, make_agency
from tests.test_directory import person


@pytest.mark.slow
def test_many_short_transactions_do_not_crash_slapd(fresh_directory: RunningDirectory) -> None:
    services = fresh_directory.services
    unit = make_agency(services, "S", "Settle")
    base = services.client.base_dn
    errors: list[BaseException] = []

    def import_one_by_one(prefix: str) -> None:
        try:
            entries = [person(f"{prefix}{i:03d}", unit, base) for i in range(60)]
            assert services.client.add_many(entries, batch_size=1) == []  # one transaction per entry
            changes = [(dn, {"title": ("replace", ["x"])}) for dn, _ in entries]
            assert services.client.modify_many(changes, batch_size=1) == []
            for dn, _ in entries[:30]:  # MailboxStore._update_all's way
                with services.client.transaction() as txn:
                    txn.modify(dn, {"title": ("replace", ["y"])})
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=import_one_by_one, args=(f"settle{n}x",)) for n in range(4)]  # CPU contention
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fresh_directory.slapd.running_pid() is not None, "slapd crashed"
    assert errors == []
    assert services.client.count(base, "(title=y)") == 4 * 30
