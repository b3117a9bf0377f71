"""The dashboard's numbers: mailboxes by tier and by status."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from mailadmin.directory.mailboxes import MailboxStore
from mailadmin.model import Status, Tier


@dataclass(frozen=True)
class MailboxStats:
    """Counts of mailboxes; every tier and status is present, zero when empty."""

    total: int
    by_tier: dict[str, int]
    by_status: dict[str, int]
    by_tier_and_status: dict[str, dict[str, int]]

    def as_dict(self) -> dict[str, object]:
        return {"total": self.total, "by_tier": self.by_tier, "by_status": self.by_status,
                "by_tier_and_status": self.by_tier_and_status}


def mailbox_stats(store: MailboxStore) -> MailboxStats:
    """Count every mailbox in one paged search of two attributes."""
    pairs = Counter(store.status_and_tier())
    tiers = [tier.value for tier in Tier]
    statuses = [status.value for status in Status]
    grid = {tier: {status: pairs.get((tier, status), 0) for status in statuses} for tier in tiers}
    return MailboxStats(
        total=sum(pairs.values()),
        by_tier={tier: sum(grid[tier].values()) for tier in tiers},
        by_status={status: sum(grid[tier][status] for tier in tiers) for status in statuses},
        by_tier_and_status=grid,
    )
