"""Second-factor state on person entries (maSecondFactor: maTotpSecret, maTotpLastStep, maRecoveryCode).

Only the service account reads or writes these attributes (slapd ACL). Single use is the server's
job: a time step is taken by replacing the last step with a delete of the old value and an add of
the new one in one modify (it fails if another process took a step first), a recovery code by
deleting its value (it fails if it is gone), an enrolment by adding the object class (it fails if
another confirmation enrolled first), and new recovery codes by deleting the old values (it fails if
one was used or others were made meanwhile).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from mailadmin.directory import filters
from mailadmin.directory.client import DirectoryClient, Values
from mailadmin.directory.mailboxes import EPOCH, IS_MAILBOX
from mailadmin.errors import Conflict
from mailadmin.i18n import t

SECOND_FACTOR_CLASS = "maSecondFactor"
SECRET, LAST_STEP, RECOVERY = "maTotpSecret", "maTotpLastStep", "maRecoveryCode"
ALREADY_ENROLLED = t("Xác thực hai lớp của bạn vừa được bật từ một phiên khác (thẻ hoặc máy khác) ngay trước lần xác "
                     "nhận này, nên khóa bí mật ở trang này không được dùng: hãy xóa nó khỏi ứng dụng xác thực. Mã "
                     "khôi phục chỉ hiện ở trang trả lời của lần bật kia; nếu chưa lưu được, hãy tạo mã mới ở trang "
                     "Xác thực hai lớp.",
                     "your second factor was just turned on from another session (another tab or device) before "
                     "this confirmation, so the secret on this page is not used: remove it from the authenticator "
                     "app. The recovery codes were shown only on that other enrolment's answer; if they were not "
                     "saved, make new ones on the two-step verification page.")
CODES_CHANGED = t("Mã khôi phục vừa thay đổi ở một phiên khác (một mã vừa được dùng hoặc mã mới vừa được tạo) nên "
                  "chưa tạo mã mới; hãy thử lại với mã tiếp theo của ứng dụng xác thực.",
                  "the recovery codes changed in another session just now (a code was used or new ones were made), "
                  "so no new codes were made; try again with the authenticator's next code.")


@dataclass(frozen=True)
class Enrolment:
    """What the directory keeps of a person's second factor (the secret still encrypted)."""

    secret: str = field(repr=False)
    last_step: int | None
    recovery: tuple[str, ...] = field(repr=False)


class SecondFactorStore:
    """Reads and writes the second factor of person entries."""

    def __init__(self, client: DirectoryClient) -> None:
        self.client = client

    def read(self, dn: str) -> Enrolment | None:
        """The person's enrolment, or None if they have none."""
        entry = self.client.get(dn, ["objectClass", SECRET, LAST_STEP, RECOVERY])
        if entry is None or not entry.text(SECRET):
            return None
        step = entry.text(LAST_STEP)
        return Enrolment(entry.text(SECRET), int(step) if step else None, tuple(entry.texts(RECOVERY)))

    def enrol(self, dn: str, secret: str, step: int, recovery: list[str]) -> str:
        """Store a confirmed enrolment and move the session epoch in the same write; returns the new epoch.

        The write adds the maSecondFactor class, which slapd refuses if the entry has it: of two
        confirmations at once (two web processes, each past its check that the person had none),
        exactly one enrols and the other raises Conflict (ALREADY_ENROLLED), having changed nothing."""
        epoch = secrets.token_hex(8)
        try:
            self.client.modify(dn, {"objectClass": ("add", [SECOND_FACTOR_CLASS]), SECRET: ("replace", [secret]),
                                    LAST_STEP: ("replace", [str(step)]), RECOVERY: ("replace", recovery),
                                    EPOCH: ("replace", [epoch])})
        except Conflict as error:
            raise Conflict(ALREADY_ENROLLED) from error
        return epoch

    def take_step(self, dn: str, previous: int | None, step: int) -> bool:
        """Record `step` as used if the last used step is still `previous`; False if another took it."""
        changes: dict = {LAST_STEP: ("replace", [str(step)])} if previous is None else \
            {LAST_STEP: [("delete", [str(previous)]), ("add", [str(step)])]}
        return self._exclusive(dn, changes)

    def take_recovery(self, dn: str, stored: str) -> bool:
        """Remove one recovery code's stored value; False if it was already used."""
        return self._exclusive(dn, {RECOVERY: ("delete", [stored])})

    def replace_recovery(self, dn: str, previous: tuple[str, ...], recovery: list[str]) -> None:
        """Put `recovery` in place of the `previous` recovery codes in one write; Conflict (CODES_CHANGED) if they
        changed since they were read (a code used, or other new codes made, in another session)."""
        changes: list[tuple[str, Values]] = [("delete", previous), ("add", recovery)] if previous else \
            [("add", recovery)]
        try:
            self.client.modify(dn, {RECOVERY: changes})
        except Conflict as error:
            raise Conflict(CODES_CHANGED) from error

    def _exclusive(self, dn: str, changes: dict) -> bool:
        try:
            self.client.modify(dn, changes)
        except Conflict:
            return False
        return True

    def remove(self, dn: str) -> None:
        """Drop the second factor and move the session epoch (every session and token ends)."""
        self.client.modify(dn, {"objectClass": ("delete", [SECOND_FACTOR_CLASS]), SECRET: ("replace", []),
                                LAST_STEP: ("replace", []), RECOVERY: ("replace", []),
                                EPOCH: ("replace", [secrets.token_hex(8)])})

    def count_holders(self) -> tuple[int, int]:
        """(role holders, role holders with a second factor), counted by the server."""
        holders = filters.all_of(IS_MAILBOX, filters.present("maRole"))
        enrolled = filters.all_of(holders, filters.eq("objectClass", SECOND_FACTOR_CLASS))
        base = self.client.base_dn
        return self.client.count(base, holders), self.client.count(base, enrolled)
