"""The one place the benchmarks reach past toolwire's public API.

Everything else goes through what a user has (the container, `toolwire serve`, the
WebSocket protocol, `toolwire check`). What comes from inside is: the three request objects
built by hand (what `toolwire check` flags as TW001 in application code; here it is the floor
the container is compared with), the checker's in-process entry, and the two functions
`toolwire serve` is made of, so the delivery benchmark's server is that command with one
provider overridden.
"""

from __future__ import annotations

from collections.abc import Callable

from toolwire import ApplicationContainer, UserExecutionContext
from toolwire.adapters.bridge import WebSocketBridge
from toolwire.checker import check_paths
from toolwire.commands.common import build_container
from toolwire.commands.serve import serve_until_signalled
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor

__all__ = ["HandBuilt", "build_container", "check_paths", "close_by_hand", "hand_builder",
           "serve_until_signalled"]

HandBuilt = tuple[WebSocketBridge, ToolExecutor, ToolDispatcher]


def hand_builder(container: ApplicationContainer) -> Callable[[UserExecutionContext], HandBuilt]:
    """Return a function that builds bridge, executor and dispatcher directly.

    The app-wide objects and settings are read from the container once, up front.
    """
    settings = container.settings()
    bus, registry = container.event_bus(), container.tool_registry()
    retry_for_s, max_calls = settings.runs.max_duration_s, settings.runs.max_tool_calls
    timeout_s, timeouts = settings.tools.timeout_s, settings.tools.timeouts

    def build(ctx: UserExecutionContext) -> HandBuilt:
        bridge = WebSocketBridge(  # toolwire: ignore[TW001]
            user_context=ctx, bus=bus, retry_for_s=retry_for_s)
        executor = ToolExecutor(  # toolwire: ignore[TW001]
            user_context=ctx, sink=bridge, registry=registry, default_timeout_s=timeout_s,
            timeouts=timeouts)
        dispatcher = ToolDispatcher(  # toolwire: ignore[TW001]
            user_context=ctx, executor=executor, max_tool_calls=max_calls)
        return bridge, executor, dispatcher

    return build


async def close_by_hand(built: HandBuilt) -> None:
    """Close dispatcher, executor and bridge, in the order the request scope does."""
    bridge, executor, dispatcher = built
    await dispatcher.aclose()
    await executor.aclose()
    await bridge.aclose()

