"""`Identity`: who a verified token names and what it grants, read from its claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from toolwire.adapters.auth.errors import AuthError

SCOPE_CLAIMS: Final = ("scope", "scp")
"""OAuth 2's `scope` (space-separated) and the `scp` of Okta (a list) and Entra (a string)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """The verified user (`sub`) and the scopes their token grants."""

    user_id: str
    scopes: frozenset[str] = frozenset()


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """Return the scopes of `scope` and `scp`: space-separated strings or lists of strings."""
    scopes: set[str] = set()
    for name in SCOPE_CLAIMS:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            scopes.update(value.split())
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            scopes.update(item for item in value if item)
        else:
            raise AuthError(f"invalid token ({name} must be a string or a list of strings)")
    return frozenset(scopes)
