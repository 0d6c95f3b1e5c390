"""`toolwire serve` with one provider overridden: an agent that streams the benchmark's events.

This is how events are injected into toolwire: a chat whose message is a stream command
starts an ordinary run in its own request scope, and the agent, swapped in through the
container (`container.agent.override(...)`, the documented test story), emits each event
as an `agent_thinking` through the run's runtime. Every event then takes the production
path: bridge (seq, ts), event bus (memory or Redis, from the settings), the user's
connection buffer and its writer task. Settings come from the TOOLWIRE_ environment, as
for `toolwire serve`. Run: `python -m benchmarks.servers.toolwire_server`.
"""

from __future__ import annotations

import asyncio

from dependency_injector import providers

from benchmarks.internals import build_container, serve_until_signalled
from benchmarks.servers.stream import StreamCommand, stream
from toolwire import AgentRuntime


class StreamingAgent:
    """Answers a stream command by thinking aloud once per event, then says it is done."""

    name = "bench-stream"

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Emit the command's events as `agent_thinking`."""

        async def emit(index: int, text: str) -> None:
            await runtime.think(text)

        await stream(StreamCommand.from_json(message), emit)
        return "done"


def main() -> None:
    """Serve toolwire with the streaming agent on a free loopback port."""
    container = build_container()
    container.agent.override(providers.Factory(StreamingAgent))
    asyncio.run(serve_until_signalled(container, "127.0.0.1", 0))


if __name__ == "__main__":
    main()
