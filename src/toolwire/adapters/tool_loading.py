"""Build the tool registry: built-ins, `tools.modules`, `toolwire.tools` entry points, MCP servers.

The first three load synchronously when the registry is first used. MCP servers are listed
asynchronously, so their tools join the same registry at start-up, when the `mcp_servers`
resource of the container opens (`start_resources`): before `toolwire serve` accepts a
connection, before `toolwire run` starts its run, before `toolwire tools` lists.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING, Final

from toolwire.config import ToolsSettings
from toolwire.services.errors import ToolConflictError, ToolLoadError
from toolwire.services.tools.builtin import ALWAYS_AVAILABLE, builtin_tools, sleep
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec

if TYPE_CHECKING:
    from toolwire.adapters.mcp import McpServers

ENTRY_POINT_GROUP: Final = "toolwire.tools"
BUILTIN_NAMES: Final = frozenset(spec.name for spec in (*ALWAYS_AVAILABLE, sleep))

log = logging.getLogger(__name__)


def tools_in_module(module: ModuleType) -> list[ToolSpec]:
    """Return the `@tool` objects at the top level of `module` (defined or imported there)."""
    found: dict[int, ToolSpec] = {}
    for value in vars(module).values():
        if isinstance(value, ToolSpec):
            found.setdefault(id(value), value)
    return list(found.values())


def module_tools(module_name: str) -> list[ToolSpec]:
    """Import a module named in `tools.modules` and return its tools; fail naming the module."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ToolLoadError(
            f"cannot import tool module {module_name!r} (tools.modules, "
            f"TOOLWIRE_TOOLS__MODULES): {type(exc).__name__}: {exc}"
        ) from exc
    specs = tools_in_module(module)
    if not specs:
        raise ToolLoadError(
            f"tool module {module_name!r} (tools.modules, TOOLWIRE_TOOLS__MODULES) "
            "has no @tool functions at its top level"
        )
    return specs


def entry_point_tools(group: str = ENTRY_POINT_GROUP) -> list[ToolSpec]:
    """Return the tools of every installed entry point in `group`; fail naming the entry point."""
    specs: list[ToolSpec] = []
    for ep in entry_points(group=group):
        where = f"entry point {ep.name!r} = {ep.value!r} (group {group!r}{_dist_of(ep)})"
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ToolLoadError(
                f"cannot load {where}: {type(exc).__name__}: {exc}"
            ) from exc
        found = _tools_of(loaded, where)
        specs.extend(replace(spec, origin=f"{spec.origin} via {where}") for spec in found)
    return specs


def _tools_of(loaded: object, where: str) -> list[ToolSpec]:
    if isinstance(loaded, ToolSpec):
        return [loaded]
    if isinstance(loaded, ModuleType):
        found = tools_in_module(loaded)
    elif isinstance(loaded, list | tuple) and all(isinstance(t, ToolSpec) for t in loaded):
        found = list(loaded)
    else:
        raise ToolLoadError(
            f"{where} names {type(loaded).__name__}, not a @tool, a list of them or a module"
        )
    if not found:
        raise ToolLoadError(f"{where} provides no @tool functions")
    return found


def _dist_of(ep: EntryPoint) -> str:
    dist = ep.dist
    return f", distribution {dist.name!r}" if dist is not None else ""


def check_builtin_names(settings: ToolsSettings) -> None:
    """Fail when `tools.enabled` or `tools.disabled` name something that is not a built-in."""
    known = ", ".join(sorted(BUILTIN_NAMES))
    for setting, names in (("enabled", settings.enabled or ()), ("disabled", settings.disabled)):
        unknown = sorted(set(names) - BUILTIN_NAMES)
        if unknown:
            raise ToolLoadError(
                f"tools.{setting} (TOOLWIRE_TOOLS__{setting.upper()}) names "
                f"{', '.join(map(repr, unknown))}, which is not a built-in tool; the built-ins "
                f"are {known} (custom tools are on when their module or entry point is loaded)"
            )


def load_registry(settings: ToolsSettings) -> ToolRegistry:
    """Return the app-wide registry the settings describe; conflicts fail with both origins."""
    check_builtin_names(settings)
    registry = ToolRegistry(builtin_tools(
        sleep_enabled=settings.sleep_enabled,
        enabled=settings.enabled,
        disabled=settings.disabled,
    ))
    for module_name in settings.modules:
        for spec in module_tools(module_name):
            registry.register(spec)
    for spec in entry_point_tools():
        registry.register(spec)
    log.debug("tools: %s", ", ".join(registry.names()))
    return registry


def register_mcp_tools(registry: ToolRegistry, specs: Sequence[ToolSpec]) -> None:
    """Add MCP tools to `registry`; a name clash fails naming both tools and the way out."""
    for spec in specs:
        try:
            registry.register(spec)
        except ToolConflictError as exc:
            raise ToolConflictError(
                f"{exc} (or set \"prefix\" on the MCP server in tools.mcp_servers, "
                "TOOLWIRE_TOOLS__MCP_SERVERS)"
            ) from None
    if specs:
        log.debug("MCP tools: %s", ", ".join(spec.name for spec in specs))


async def mcp_tools(
    settings: ToolsSettings, registry: ToolRegistry
) -> AsyncIterator[McpServers | None]:
    """Resource: connect the MCP servers, add their tools to `registry`; close them at the end.

    None when no server is configured (the `mcp` SDK is then not even imported).
    """
    if not settings.mcp_servers:
        yield None
        return
    from toolwire.adapters.mcp import connect_servers

    servers = await connect_servers(settings)
    try:
        register_mcp_tools(registry, servers.specs)
        yield servers
    finally:
        await servers.aclose()
