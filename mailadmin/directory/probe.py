"""Every attribute mailadmin writes, stored once outside a transaction so that slapd's database knows it.

back-mdb (slapd 2.5.13) records an attribute description in its database the first time an entry carrying
it is stored. In a transaction that then aborts (a later write refused: a unique clash, a schema error)
the database forgets it but slapd's memory does not, and the entries written next carry an index the
database lacks: "internal error in mdb_entry_decode" on every read of them, even after a restart
(mdb_id2entry_put unwinds its table only when its own write fails). A new installation's first import
with one bad row in its first batch did that (tests/test_txn_settle.py). `mailadmin directory init`
adds and deletes one entry carrying them all, so that each first use happens there.
"""

from __future__ import annotations

from datetime import date

from mailadmin.directory.client import DirectoryClient, Values
from mailadmin.directory.mapping import generalized_time, mailbox_attributes, unit_attributes
from mailadmin.model import Mailbox, PersonName, Status, Tier, Unit, UnitKind

PROBE = "mailadmin-attribute-probe"


def probe_entry(base_dn: str) -> tuple[str, dict[str, Values]]:
    """An entry (extensibleObject) with a value for each attribute mailadmin writes in transactions."""
    day = generalized_time(date(2000, 1, 1))
    mailbox = Mailbox(uid=PROBE, name=PersonName("Probe", "", "Probe"), mail=f"{PROBE}@probe.invalid",
                      unit_code=PROBE, tier=Tier.PROVINCE, status=Status.RETIRED,
                      aliases=(f"{PROBE}.alias@probe.invalid",), title="probe", phone="0", hr_id=PROBE,
                      quota_mib=1, retain_until=date(2000, 1, 1))
    unit = Unit(code=PROBE, name=PROBE, kind=UnitKind.AGENCY, path=(PROBE,), valid_from=date(2000, 1, 1),
                predecessors=(PROBE,))
    attributes = {**unit_attributes(unit), **mailbox_attributes(mailbox)}
    attributes.update({
        "objectClass": [*mailbox_attributes(mailbox)["objectClass"], "extensibleObject"],
        "maValidTo": [day], "maSuccessor": [PROBE], "maOldAddressUntil": [day], "maSessionEpoch": ["0"],
        "maRole": ["probe"], "maAdminOf": [base_dn], "maCertFingerprint": ["0"], "maCertIssuerSerial": ["0"],
        "maTotpSecret": ["0"], "maTotpLastStep": ["0"], "maRecoveryCode": ["0"], "maApiToken": ["0"],
        "userPassword": ["{CRYPT}*"], "pwdReset": ["TRUE"],  # a new mailbox's (MailboxStore), ppolicy's on add
    })
    return f"uid={PROBE},{base_dn}", {name: values for name, values in attributes.items() if values}



def register_attributes(client: DirectoryClient) -> None:
    """Add the probe entry and delete it again (one left by an interrupted run is replaced)."""
    dn, attributes = probe_entry(client.base_dn)
    if client.get(dn, ["uid"]) is not None:
        client.delete(dn)
    client.add(dn, attributes)
    client.delete(dn)
