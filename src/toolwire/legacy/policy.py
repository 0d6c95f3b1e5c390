"""The deprecation policy of every legacy entry point: count, then warn, refuse or stay quiet."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from toolwire.container import ApplicationContainer
from toolwire.services.errors import ToolwireError

RELEASE_DATE: Final = date(2026, 11, 25)
"""The release that deprecated the legacy entry points."""

GRACE_PERIOD: Final = timedelta(days=30)
MIGRATION_DOC: Final = "docs/migration.md"


class LegacyEntryPointError(ToolwireError):
    """A legacy entry point was called while `legacy.mode` is `error`."""


def removal_date(configured: date | None) -> date:
    """Return the configured `legacy.removal_date`, or 30 days after `RELEASE_DATE`."""
    return configured or RELEASE_DATE + GRACE_PERIOD


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """One deprecated way in, by the name callers use, and what to write instead."""

    name: str
    replacement: str

    def deprecation(self, removal: date) -> str:
        """Return the DeprecationWarning text: the replacement and the removal date."""
        return (f"{self.name} is deprecated and will be removed on {removal.isoformat()}; "
                f"use {self.replacement} (see {MIGRATION_DOC})")

    def refusal(self) -> str:
        """Return the error text for `legacy.mode=error`."""
        return (f"{self.name} is disabled (TOOLWIRE_LEGACY__MODE=error); "
                f"use {self.replacement} (see {MIGRATION_DOC})")


def announce(container: ApplicationContainer, entry: EntryPoint, *, stacklevel: int) -> None:
    """Count a call of `entry`, then warn, raise or stay silent as `legacy.mode` says.

    `stacklevel` is counted from the caller of `announce`, as for `warnings.warn`.
    """
    container.legacy_calls()[entry.name] += 1
    settings = container.settings().legacy
    if settings.mode == "off":
        return
    if settings.mode == "error":
        raise LegacyEntryPointError(entry.refusal())
    warnings.warn(entry.deprecation(removal_date(settings.removal_date)), DeprecationWarning,
                  stacklevel=stacklevel + 1)
