"""System accounts below ou=system (service password policy: never locked out), created once."""

from __future__ import annotations

from mailadmin.directory import dit
from mailadmin.directory.client import DirectoryClient
from mailadmin.passwords import hash_generated

Account = tuple[str, dict[str, list[str]]]


def system_account(base_dn: str, cn: str, description: str, password: str) -> Account:
    """The entry of an application account `cn=CN,ou=system,<base>` with a generated password's hash."""
    return f"cn={cn},ou={dit.SYSTEM_OU},{base_dn}", {
        "objectClass": ["applicationProcess", "simpleSecurityObject"], "cn": [cn],
        "description": [description], "userPassword": [hash_generated(password)],
        "pwdPolicySubentry": [dit.service_policy_dn(base_dn)],
    }


def ensure_account(admin: DirectoryClient, account: Account) -> bool:
    """Create the account in a directory made before it existed; True if created."""
    dn, attributes = account
    if admin.get(dn, ["cn"]) is not None:
        return False
    admin.add(dn, attributes)
    return True
