"""A run that is going when Redis drops carries on, losing nothing, once Redis is back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.fixtures_redis import RedisServer
from tests.integration.conftest import Recorder
from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.testing import assert_sequence, assert_well_formed

pytestmark = pytest.mark.redis


async def test_run_goes_on_after_a_short_outage(
    redis_server: RedisServer,
    toolwire_container_factory: Callable[..., ApplicationContainer],
    recorder: Recorder,
) -> None:
    container = toolwire_container_factory(
        events={"backend": "redis", "redis_url": redis_server.url}, runs={"max_duration_s": 30}
    )
    bus = container.event_bus()
    await bus.subscribe("ada", recorder)
    ctx = UserExecutionContext.for_user("ada")
    tool_started = asyncio.Event()

    async def run() -> str:
        async with container.request_scope(ctx) as scope:
            return (await scope.run('/call sleep {"seconds": 0.3}\n/call echo {"text": "back"}')
                    ).status

    task = asyncio.create_task(run())
    for _ in range(500):
        if any(e.type == "tool_executing" for e in recorder.run(ctx.run_id)):
            tool_started.set()
            break
        await asyncio.sleep(0.01)
    assert tool_started.is_set()
    redis_server.stop()  # the sleep ends while Redis is gone: tool_completed cannot publish
    await asyncio.sleep(0.8)
    assert not task.done()
    redis_server.start()
    assert await asyncio.wait_for(task, 20) == "ok"

    events = recorder.run(ctx.run_id)
    assert_well_formed(events)
    assert_sequence(events, [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "tool_executing", "tool_completed", "agent_thinking", "agent_completed",
    ])
