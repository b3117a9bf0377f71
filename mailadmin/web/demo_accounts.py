"""Print the demo role accounts (uid, role, password file content) for scripts/run."""

from __future__ import annotations

from mailadmin.model import Role
from mailadmin.services.demo import DEMO_ROLES, demo_role_password_path
from mailadmin.wiring import open_services

LABELS = {Role.UNITADMIN: "Unit admin 555", Role.HR: "HR officer", Role.AUDITOR: "Auditor"}


def main() -> None:
    """One line per demo role: who holds it and their password."""
    services = open_services()
    try:
        for role, _, _ in DEMO_ROLES:
            uid = next((m.uid for m in services.mailboxes.store.search(
                conditions=[f"(maRole={role.value})"], size_limit=1)), "?")
            password = demo_role_password_path(services.settings, role).read_text(encoding="utf-8").strip()
            print(f"  {LABELS[role] + ':':<16}{uid}  password: {password}")
    finally:
        services.close()


if __name__ == "__main__":
    main()
