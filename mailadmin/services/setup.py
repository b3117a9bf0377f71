"""First-time and repeatable set-up of a directory's content: policy and unit tree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mailadmin.directory import dit
from mailadmin.directory.probe import register_attributes
from mailadmin.services.auth import decoy_entry, decoy_policy
from mailadmin.services.units import SyncReport, load_units_file

if TYPE_CHECKING:  # the wiring assembles services; these use cases only receive it
    from mailadmin.wiring import Services


def apply_password_policy(services: Services) -> None:
    """Write the configured lockout and length rules onto the default ppolicy entry."""
    policy = services.settings.passwords
    services.client.modify(dit.default_policy_dn(services.client.base_dn), {
        "pwdMinLength": ("replace", [str(policy.min_length)]),
        "pwdMaxFailure": ("replace", [str(policy.max_failures)]),
        "pwdLockoutDuration": ("replace", [str(policy.lockout_seconds)]),
        "pwdFailureCountInterval": ("replace", [str(policy.lockout_seconds)]),
        "pwdInHistory": ("replace", [str(policy.history)]),
    })


def ensure_login_decoy(services: Services) -> None:
    """Create or refresh the entry unknown and locked logins bind as, and its policy (services/auth.py)."""
    client, policy = services.client, services.settings.passwords
    policy_dn, policy_entry = decoy_policy(client.base_dn, policy)
    dn, entry = decoy_entry(client.base_dn, policy)
    for target, attributes in ((policy_dn, policy_entry), (dn, entry)):
        if client.get(target, ["cn"]) is None:
            client.add(target, attributes)
    client.modify(policy_dn, {name: ("replace", values) for name, values in policy_entry.items()
                              if name.startswith("pwd") and name != "pwdAttribute"})
    client.modify(dn, {"pwdPolicySubentry": ("replace", entry["pwdPolicySubentry"])})


def initialise(services: Services) -> SyncReport:
    """Register every attribute written later (directory/probe.py), apply the password policy, make the login
    decoy and load the unit list (idempotent)."""
    register_attributes(services.client)
    apply_password_policy(services)
    ensure_login_decoy(services)
    settings = services.settings
    return services.units.sync(load_units_file(settings.resolve(settings.organisation.units_file)))
