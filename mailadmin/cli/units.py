"""`mailadmin units list`."""

from __future__ import annotations

import click

from mailadmin.cli import MailadminGroup, pass_services
from mailadmin.cli.output import print_json, print_table
from mailadmin.wiring import Services


@click.group(cls=MailadminGroup)
def units() -> None:
    """Đơn vị / units."""


@units.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_services
def list_units(services: Services, as_json: bool) -> None:
    """The unit tree with codes, kinds and tiers."""
    index = services.units.index()
    tree = list(index.walk())
    if as_json:
        print_json([{"code": u.code, "name": u.name, "kind": u.kind.value, "tier": u.tier.value,
                     "parent": u.parent_code} for u in tree])
        return
    print_table(["Mã / code", "Tên / name", "Loại / kind", "Cấp / tier"],
                [(u.code, "  " * u.depth + u.name, u.kind.value, u.tier.value) for u in tree])
