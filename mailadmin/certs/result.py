"""The outcome of validating a certificate for binding: errors block it, warnings do not."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from mailadmin.i18n import Text


@dataclass
class ValidationResult:
    """Errors and warnings found, plus the certification path that was built."""

    errors: list[Text] = field(default_factory=list)
    warnings: list[Text] = field(default_factory=list)
    chain: list[x509.Certificate] = field(default_factory=list)
    trusted: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing blocks the binding (warnings allowed)."""
        return not self.errors

    def add_error(self, message: Text) -> None:
        """Record a problem that blocks the binding."""
        self.errors.append(message)

    def add_warning(self, message: Text) -> None:
        """Record a problem worth showing that does not block the binding."""
        self.warnings.append(message)
