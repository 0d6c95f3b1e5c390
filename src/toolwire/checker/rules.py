"""What `toolwire check` looks for: the codes, the names they match and their messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

CONSTRUCTION: Final = "TW001"
LEGACY_IMPORT: Final = "TW002"
LEGACY_CALL: Final = "TW003"

LEGACY_MODULE: Final = "toolwire.legacy"
MIGRATION_DOC: Final = "docs/migration.md"

_IN_SCOPE: Final = "`async with container.request_scope(ctx) as scope:` and"
CONTAINER_OWNED: Final[dict[str, str]] = {
    "ToolDispatcher": f"{_IN_SCOPE} `scope.dispatcher`",
    "ToolExecutor": f"{_IN_SCOPE} `scope.executor`",
    "WebSocketBridge": f"{_IN_SCOPE} `scope.bridge`",
    "RequestScope": "`container.request_scope(ctx)`",
}
"""Classes only `toolwire/container/` builds, with what to use instead."""

LEGACY_CALLABLES: Final[frozenset[str]] = frozenset({
    "UnifiedToolDispatcherFactory",
    "RequestScopedToolDispatcher",
    "create_request_scoped_dispatcher",
    "ToolExecutorFactory",
    "create_executor",
    "create_request_scoped_executor",
    "WebSocketBridgeAdapter",
    "create_agent_websocket_bridge",
})
"""Legacy factories flagged whatever they are called on (`f(...)` or `obj.f(...)`)."""

LEGACY_METHODS: Final[dict[str, str]] = {"create_for_user": "UnifiedToolDispatcher"}
"""Legacy factory methods flagged only when called on the named class (`Cls.method(...)`)."""


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One problem at a 1-based line and column of a file."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def render(self) -> str:
        """Return the finding as `path:line:col: CODE message`."""
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, str | int]:
        """Return the finding as JSON-ready data."""
        return {"path": self.path, "line": self.line, "col": self.col, "code": self.code,
                "message": self.message}


def construction_message(name: str) -> str:
    """Explain why constructing container-owned class `name` is a finding."""
    return f"{name} is built only by the container; use {CONTAINER_OWNED[name]}"


def legacy_import_message(name: str) -> str:
    """Explain why importing legacy name (or module) `name` is a finding."""
    what = name if name.startswith(LEGACY_MODULE) else f"{name} from {LEGACY_MODULE}"
    return f"import of deprecated {what}; see {MIGRATION_DOC}"


def legacy_call_message(name: str) -> str:
    """Explain why calling legacy factory `name` is a finding."""
    return (f"call of deprecated legacy factory {name}; use `async with "
            f"container.request_scope(ctx) as scope:` (see {MIGRATION_DOC})")
