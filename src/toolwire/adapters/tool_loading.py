"""Build the tool registry: built-ins, `tools.modules` and the `toolwire.tools` entry points."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Final

from toolwire.config import ToolsSettings
from toolwire.services.errors import ToolLoadError
from toolwire.services.tools.builtin import builtin_tools
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec

ENTRY_POINT_GROUP: Final = "toolwire.tools"


def tools_in_module(module: ModuleType) -> list[ToolSpec]:
    """Return the `@tool` functions defined or imported at the top level of `module`."""
    return [value for _, value in inspect.getmembers(module) if isinstance(value, ToolSpec)]


def _import(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        raise ToolLoadError(
            f"cannot import tool module {module_name!r} (TOOLWIRE_TOOLS__MODULES): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _from_entry_points() -> Iterable[ToolSpec]:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:
            raise ToolLoadError(
                f"cannot load entry point {ep.name!r} = {ep.value!r} of group "
                f"{ENTRY_POINT_GROUP!r}: {type(exc).__name__}: {exc}"
            ) from exc
        if isinstance(loaded, ToolSpec):
            yield loaded
        elif isinstance(loaded, ModuleType):
            yield from tools_in_module(loaded)
        elif isinstance(loaded, list | tuple) and all(isinstance(t, ToolSpec) for t in loaded):
            yield from loaded
        else:
            raise ToolLoadError(
                f"entry point {ep.name!r} = {ep.value!r} is neither a @tool, a list of them "
                "nor a module"
            )


def load_registry(settings: ToolsSettings) -> ToolRegistry:
    """Return the app-wide registry the settings describe; conflicts fail with both origins."""
    registry = ToolRegistry(builtin_tools(
        sleep_enabled=settings.sleep_enabled,
        enabled=settings.enabled,
        disabled=settings.disabled,
    ))
    blocked = set(settings.disabled)
    extra: list[ToolSpec] = []
    for module_name in settings.modules:
        extra.extend(tools_in_module(_import(module_name)))
    extra.extend(_from_entry_points())
    for spec in extra:
        if spec.name not in blocked:
            registry.register(spec)
    return registry
