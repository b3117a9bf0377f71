"""First-time and repeatable set-up of a directory's content: policy and unit tree."""

from __future__ import annotations

from mailadmin.directory import dit
from mailadmin.services.auth import decoy_entry
from mailadmin.services.context import Services
from mailadmin.services.units import SyncReport, load_units_file


def apply_password_policy(services: Services) -> None:
    """Write the configured lockout and length rules onto the default ppolicy entry."""
    policy = services.settings.passwords
    services.client.modify(dit.default_policy_dn(services.client.base_dn), {
        "pwdMinLength": ("replace", [str(policy.min_length)]),
        "pwdMaxFailure": ("replace", [str(policy.max_failures)]),
        "pwdLockoutDuration": ("replace", [str(policy.lockout_seconds)]),
        "pwdFailureCountInterval": ("replace", [str(policy.lockout_seconds)]),
    })


def ensure_login_decoy(services: Services) -> bool:
    """Create the entry unknown logins bind as (services/auth.py), if missing; True if created."""
    dn, attributes = decoy_entry(services.client.base_dn, services.settings.passwords)
    if services.client.get(dn, ["cn"]) is not None:
        return False
    services.client.add(dn, attributes)
    return True


def initialise(services: Services) -> SyncReport:
    """Apply the password policy, make the login decoy and load the unit list (idempotent)."""
    apply_password_policy(services)
    ensure_login_decoy(services)
    settings = services.settings
    return services.units.sync(load_units_file(settings.resolve(settings.organisation.units_file)))
