"""`ToolPermissions`: which tools a user may see and call, by the scopes each tool needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Final

from toolwire.services.tools.spec import ToolSpec

_NONE: Final[Mapping[str, Collection[str]]] = {}


class ToolPermissions:
    """The scopes a tool needs: the configured ones for its name, else its own.

    A user may call a tool when their scopes include every scope it needs; a tool that
    needs none is open to every user. `configured` (`tools.scopes`) is shared and only read.
    """

    __slots__ = ("_configured",)

    def __init__(self, configured: Mapping[str, Collection[str]] = _NONE) -> None:
        self._configured = configured

    def required(self, spec: ToolSpec) -> frozenset[str]:
        """Return the scopes a user needs to see and call `spec`."""
        configured = self._configured.get(spec.name)
        return spec.scopes if configured is None else frozenset(configured)

    def allows(self, spec: ToolSpec, granted: frozenset[str]) -> bool:
        """Return True when a user granted `granted` may call `spec`."""
        return self.required(spec) <= granted

    def visible(self, specs: Iterable[ToolSpec], granted: frozenset[str]) -> list[ToolSpec]:
        """Return the specs a user granted `granted` may call, in their order."""
        return [spec for spec in specs if self.allows(spec, granted)]
