"""The benchmark's way into toolwire: a chat run whose agent (an override) streams events."""

from __future__ import annotations

from dependency_injector import providers

from benchmarks.servers.stream import MARKER, StreamCommand
from benchmarks.servers.toolwire_server import StreamingAgent
from toolwire import RunEvent, Settings, UserExecutionContext, create_container


async def test_a_stream_command_becomes_agent_thinking_events_on_the_bus() -> None:
    container = create_container(Settings(env="test"))
    container.agent.override(providers.Factory(StreamingAgent))
    bus = container.event_bus()
    seen: list[RunEvent] = []
    subscription = await bus.subscribe("ada", seen.append)
    try:
        command = StreamCommand(events=5, rate=0.0, text_chars=60)
        async with container.request_scope(UserExecutionContext.for_user("ada")) as scope:
            final = await scope.run(command.to_json())
    finally:
        await subscription.close()
        await bus.aclose()
    assert final.status == "ok"
    assert [e.type for e in seen] == (
        ["agent_started"] + ["agent_thinking"] * 5 + ["agent_completed"])
    thinking = [e for e in seen if e.type == "agent_thinking"]
    indices = []
    for event in thinking:
        found = MARKER.search(event.data["text"])
        assert found is not None
        assert len(event.data["text"]) == 60
        indices.append(int(found.group(1)))
    assert indices == [0, 1, 2, 3, 4]
    assert [e.seq for e in seen] == list(range(1, 8))
