"""First-time and repeatable set-up of a directory's content: policy and unit tree."""

from __future__ import annotations

from mailadmin.directory import dit
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
        "pwdInHistory": ("replace", [str(policy.history)]),
    })


def initialise(services: Services) -> SyncReport:
    """Apply the password policy and load the unit list (idempotent)."""
    apply_password_policy(services)
    settings = services.settings
    return services.units.sync(load_units_file(settings.resolve(settings.organisation.units_file)))
