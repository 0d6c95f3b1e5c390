"""A program written against every legacy entry point; it runs unchanged on toolwire.

Run it with `python examples/legacy_caller.py`: it prints each tool result and Python shows
one DeprecationWarning per entry point. `toolwire check examples/` lists what to migrate;
docs/migration.md says how.
"""

from __future__ import annotations

import asyncio
from typing import Any

from toolwire.legacy import (
    RequestScopedToolDispatcher,
    ToolDispatcher,
    ToolExecutorFactory,
    UnifiedToolDispatcher,
    UnifiedToolDispatcherFactory,
    WebSocketBridgeAdapter,
    create_agent_websocket_bridge,
    create_request_scoped_executor,
)
from toolwire.services.context import UserExecutionContext
from toolwire.services.tools.spec import tool


@tool(name="greet", description="Greet someone (a tool for one request only).")
def greet(name: str) -> str:
    return f"hello, {name}"


class PrintingEmitter:
    """An old-style emitter: gets every event of the run as its wire envelope."""

    def send_event(self, event: dict[str, Any]) -> None:
        print(f"  event {event['seq']}: {event['type']}")


async def main() -> None:
    ctx = UserExecutionContext.for_user("ada")
    emitter = PrintingEmitter()

    dispatcher = await UnifiedToolDispatcher.create_for_user(ctx, websocket_bridge=emitter)
    outcome = await dispatcher.execute_tool("calculator", {"expression": "6*7"})
    print("UnifiedToolDispatcher.create_for_user:", outcome.result)
    await dispatcher.cleanup()

    factory = UnifiedToolDispatcherFactory()
    async with await factory.create("ada", tools=[greet]) as dispatcher:
        outcome = await dispatcher.execute_tool("greet", {"name": "Ada"})
        print("UnifiedToolDispatcherFactory().create:", outcome.result)

    async with RequestScopedToolDispatcher(ctx, websocket_emitter=emitter) as dispatcher:
        outcome = await dispatcher.execute_tool("echo", {"text": "request-scoped"})
        print("RequestScopedToolDispatcher:", outcome.result)

    dispatcher = await ToolDispatcher.create_request_scoped_dispatcher("ada")
    outcome = await dispatcher.execute_tool("calculator", {"expression": "2**10"})
    print("ToolDispatcher.create_request_scoped_dispatcher:", outcome.result)
    await dispatcher.aclose()

    executor = await ToolExecutorFactory().create_executor(ctx)
    outcome = await executor.execute_tool("calculator", {"expression": "(1+2)*3"})
    print("ToolExecutorFactory().create_executor:", outcome.result)
    await executor.cleanup()

    async with await create_request_scoped_executor(ctx, tools=[greet]) as executor:
        outcome = await executor.execute_tool("greet", {"name": "Grace"})
        print("create_request_scoped_executor:", outcome.result)

    async with WebSocketBridgeAdapter(emitter, ctx) as bridge:
        call_id = await bridge.notify_tool_executing("calculator", {"expression": "1+1"})
        await bridge.notify_tool_completed("calculator", 2)
        print("WebSocketBridgeAdapter: notified", call_id)

    bridge = create_agent_websocket_bridge("ada")
    await bridge.notify_agent_thinking("still here")
    print("create_agent_websocket_bridge: notified")
    await bridge.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
