"""The dashboard's numbers for one person's view: counts by tier and status, per unit, recent changes."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from mailadmin.audit import AuditEntry, AuditLog
from mailadmin.directory import dit, filters
from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.model import Status, Tier, Unit
from mailadmin.services.units import UnitService

UNIT_COUNTS_TTL_SECONDS = 60.0  # where the directory's write counters cannot be read


@dataclass(frozen=True)
class Overview:
    """Counts below one unit (or the whole province): tier x status, with totals."""

    grid: dict[str, dict[str, int]]

    @property
    def by_tier(self) -> dict[str, int]:
        return {tier: sum(counts.values()) for tier, counts in self.grid.items()}

    @property
    def by_status(self) -> dict[str, int]:
        return {status.value: sum(counts[status.value] for counts in self.grid.values()) for status in Status}

    @property
    def total(self) -> int:
        return sum(self.by_tier.values())


class DashboardService:
    """Counting done by the server (VLV content counts), per-unit counts cached briefly."""

    def __init__(self, store: MailboxStore, units: UnitService, audit: AuditLog) -> None:
        self.store = store
        self.units = units
        self.audit = audit
        self._unit_counts: tuple[str, float, dict[str, int]] | None = None
        self._lock = threading.Lock()

    def overview(self, unit: Unit | None = None) -> Overview:
        """Mailboxes by tier and status below `unit` (everything when None)."""
        base = dit.unit_dn(unit.path, self.store.base_dn) if unit else None
        grid = {tier.value: {status.value: self.store.count(base_dn=base, conditions=[
            filters.eq("maTier", tier.value), filters.eq("maAccountStatus", status.value)]) for status in Status}
            for tier in Tier}
        return Overview(grid)

    def unit_totals(self) -> dict[str, int]:
        """Mailboxes in each unit's subtree, by unit code."""
        direct = self._direct_counts()
        index = self.units.index()
        totals: dict[str, int] = {}
        for code, count in direct.items():
            unit = index.units.get(code)
            for ancestor in unit.path if unit else (code,):
                totals[ancestor] = totals.get(ancestor, 0) + count
        return totals

    def _direct_counts(self) -> dict[str, int]:
        """Mailboxes directly in each unit: one search of every DN, reused until a client writes.

        Kept as long as slapd's write counters stand still (at most ldap.kept_list_seconds, as the
        kept sorted lists); a minute where they cannot be read.
        """
        client = self.store.client
        with self._lock:
            stamp = client.change_stamp()
            longest = client.config.kept_list_seconds if stamp else UNIT_COUNTS_TTL_SECONDS
            if self._unit_counts and self._unit_counts[0] == stamp \
                    and time.monotonic() - self._unit_counts[1] < longest:
                return self._unit_counts[2]
            counts = self.store.count_by_unit()
            self._unit_counts = (stamp, time.monotonic(), counts)
            return counts

    def forget(self) -> None:
        """Drop cached counts (after a change made here)."""
        with self._lock:
            self._unit_counts = None

    def certificate_holders(self, unit: Unit | None = None) -> int:
        """Mailboxes with at least one bound certificate below `unit` (everything when None)."""
        base = dit.unit_dn(unit.path, self.store.base_dn) if unit else None
        return self.store.count(base_dn=base, conditions=[filters.present("userCertificate")])

    def recent_changes(self, limit: int = 10) -> list[AuditEntry]:
        """The latest audit entries, newest first."""
        return list(reversed(deque(self.audit.entries(), maxlen=limit)))
