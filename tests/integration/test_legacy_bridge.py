"""The legacy bridge's `notify_*` surface publishes one well-formed run."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Recorder
from toolwire.container import ApplicationContainer
from toolwire.legacy import create_agent_websocket_bridge
from toolwire.testing import assert_sequence, assert_well_formed


async def test_the_five_notifications_make_a_well_formed_run(
    quiet: ApplicationContainer, recorder: Recorder
) -> None:
    await quiet.event_bus().subscribe("alice", recorder)
    async with create_agent_websocket_bridge("alice") as bridge:
        await bridge.notify_agent_started("add two numbers")
        await bridge.notify_agent_thinking("calling the calculator")
        first = await bridge.notify_tool_executing("calculator", {"expression": "1+1"})
        second = await bridge.notify_tool_executing("calculator", {"expression": "2+2"})
        await bridge.notify_tool_completed("calculator", 4, call_id=second)
        await bridge.notify_tool_completed("calculator", error="gave up")
        await bridge.notify_agent_completed("4")
    events = recorder.run(bridge.user_context.run_id)
    assert_well_formed(events)
    assert_sequence(events, ["agent_started", "agent_thinking", "tool_executing",
                             "tool_executing", "tool_completed", "tool_completed",
                             "agent_completed"])
    assert (events[4].data["call_id"], events[4].data["result"]) == (second, 4)
    assert events[5].data["call_id"] == first
    assert events[5].data["error"] == {"type": "tool_error", "message": "gave up"}


async def test_completing_a_tool_that_never_started_is_an_error(
    quiet: ApplicationContainer,
) -> None:
    async with create_agent_websocket_bridge("alice") as bridge:
        with pytest.raises(ValueError, match="no notify_tool_executing is open for tool 'x'"):
            await bridge.notify_tool_completed("x", 1)
