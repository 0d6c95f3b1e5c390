"""Resume of a run with more kept events than `ws.send_queue`: paced, not a slow consumer."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import (
    DEADLINE_S,
    Frame,
    ServerFactory,
    completed,
    connect,
    receive,
    receive_until,
    stalling_client,
    token_for,
)
from tests.support import eventually
from toolwire.adapters.web.state import STATE
from toolwire.services.ports import EventBus
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]
SEND_QUEUE = 8
CALLS = 40  # 3 events a call: far more than SEND_QUEUE


FIRST = '/call sleep {"seconds": 0.05}'  # lets the first socket read agent_started in peace
PAUSE_S = 0.5


def _echo_lines(count: int) -> list[str]:
    return [f'/call echo {{"text": "e{n}"}}' for n in range(count)]


async def _until_paused(bus: EventBus, run_id: str) -> None:
    """Wait until the run's kept events reach its mid-run pause (the run is live, mid-way)."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            kept = await bus.replay(run_id)
            if any(e.type == "tool_executing" and e.data["args"] == {"seconds": PAUSE_S}
                   for e in kept):
                return
            await asyncio.sleep(0.02)


async def test_resume_of_an_ended_run_longer_than_the_send_queue_replays_it_all(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"send_queue": SEND_QUEUE},
                                runs={"max_tool_calls": CALLS + 10})
    state = client.app[STATE]
    first = await connect(client, "ada")
    await first.send_json({"type": "chat", "message": "\n".join([FIRST, *_echo_lines(CALLS)])})
    run_id = (await receive(first))["run_id"]
    await first.close()
    await eventually(lambda: state.deps.runs().live_count == 0)

    second = await connect(client, "ada")
    await second.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    frames = await receive_until(second, completed)
    assert len(frames) > 3 * CALLS > SEND_QUEUE
    assert_well_formed(frames)
    assert frames[-1]["data"]["status"] == "ok"
    results = [f["data"]["result"] for f in frames
               if f["type"] == "tool_completed" and f["data"]["tool"] == "echo"]
    assert results == [f"e{n}" for n in range(CALLS)]
    await second.send_json({"type": "ping"})
    assert await receive(second) == {"type": "pong"}  # still open, nothing sent twice
    await second.close()


async def test_paced_resume_of_a_live_run_continues_live_without_gap_or_duplicate(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"send_queue": SEND_QUEUE},
                                runs={"max_tool_calls": CALLS + 10})
    message = "\n".join([FIRST, *_echo_lines(CALLS), f'/call sleep {{"seconds": {PAUSE_S}}}',
                         '/call echo {"text": "after"}'])
    first = await connect(client, "ada")
    await first.send_json({"type": "chat", "message": message})
    run_id = (await receive(first))["run_id"]
    await first.close()

    await _until_paused(client.app[STATE].deps.bus(), run_id)

    second = await connect(client, "ada")
    await second.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    frames = await receive_until(second, completed)
    assert_well_formed(frames)
    tools = [f["data"]["tool"] for f in frames if f["type"] == "tool_completed"]
    assert tools == ["sleep", *["echo"] * CALLS, "sleep", "echo"]
    await second.send_json({"type": "ping"})
    assert await receive(second) == {"type": "pong"}
    await second.close()


async def test_a_client_that_stops_reading_during_a_resume_is_still_closed_1008(
    start_server: ServerFactory,
) -> None:
    """Live events of another run pile up behind a stalled replay: slow consumer."""
    big = "z" * 200_000
    client = await start_server(
        ws={"send_queue": SEND_QUEUE, "max_message_bytes": 8 * 1024 * 1024},
        runs={"max_tool_calls": CALLS + 10})
    state = client.app[STATE]
    token = await token_for(client, "ada")
    first = await client.ws_connect(
        "/ws", headers={"Authorization": f"Bearer {token}"}, max_msg_size=0)
    lines = [FIRST, *[f'/call echo {{"text": "{big}"}}'] * 30]  # ~12 MB of events
    await first.send_json({"type": "chat", "message": "\n".join(lines)})
    run_id = (await receive(first))["run_id"]
    await first.close()
    await eventually(lambda: state.deps.runs().live_count == 0)

    async with stalling_client(client, "ada") as stalled:  # sends, reads nothing until the end
        await stalled.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
        await stalled.send_json({"type": "chat", "message": "\n".join(_echo_lines(CALLS))})
        await eventually(lambda: state.slots.count("ada") == 0  # closed and gone
                         or any(c.delivery.gave_up for c in state.connections))

        received: list[Frame] = []
        while (msg := await stalled.receive(timeout=DEADLINE_S)).type is aiohttp.WSMsgType.TEXT:
            received.append(json.loads(msg.data))
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert stalled.close_code == 1008
        assert msg.extra == "slow consumer"
    replayed = [f["seq"] for f in received if f.get("run_id") == run_id]
    assert replayed
    assert replayed == list(range(1, len(replayed) + 1))  # a clean prefix, cut by the close
