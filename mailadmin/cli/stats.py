"""`mailadmin stats`: the dashboard's numbers."""

from __future__ import annotations

from collections import Counter

import click

from mailadmin.cli import MailadminCommand, pass_services
from mailadmin.cli.output import print_json, print_table
from mailadmin.model import UnitKind
from mailadmin.services.stats import mailbox_stats
from mailadmin.wiring import Services


@click.command(cls=MailadminCommand)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def stats(services: Services, as_json: bool) -> None:
    """Mailbox counts by tier and by status (JSON: and units by kind)."""
    numbers = mailbox_stats(services.mailboxes.store)
    if as_json:
        kinds = Counter(unit.kind.value for unit in services.units.index().units.values())
        print_json({**numbers.as_dict(), "units_by_kind": {kind.value: kinds[kind.value] for kind in UnitKind}})
        return
    statuses = list(numbers.by_status)
    rows = [(tier, *counts.values(), numbers.by_tier[tier])
            for tier, counts in numbers.by_tier_and_status.items()]
    rows.append(("total", *numbers.by_status.values(), numbers.total))
    print_table(["Cấp / tier", *statuses, "Tổng / total"], rows)
