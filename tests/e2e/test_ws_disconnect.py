"""Client disconnects mid-run (docs/operations.md): the run goes on, or with
`runs.cancel_on_disconnect` it is cancelled once its user has no socket left on the instance."""

from __future__ import annotations

import json

from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import (
    Frame,
    ServerFactory,
    completed,
    connect,
    receive_until,
    stalling_client,
)
from tests.support import eventually
from toolwire.adapters.web.state import STATE
from toolwire.services.events import RunEvent
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]
CANCEL_ON_DISCONNECT = {"runs": {"cancel_on_disconnect": True}}


async def _start_sleeping_run(ws: ClientWebSocketResponse, seconds: float) -> list[Frame]:
    await ws.send_json({"type": "chat", "message": f'/call sleep {{"seconds": {seconds}}}'})
    return await receive_until(ws, lambda f: f["type"] == "tool_executing")


async def _closed_on_server(client: Client, user_id: str, left: int = 0) -> None:
    """Wait until the server has let go of the user's closed sockets (`left` remain)."""
    slots = client.app[STATE].slots
    await eventually(lambda: slots.count(user_id) == left)


async def _resume(client: Client, user_id: str, run_id: str) -> list[Frame]:
    """Replay `run_id` from its start on a fresh socket, up to its `agent_completed`."""
    ws = await connect(client, user_id)
    await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    frames = await receive_until(ws, completed)
    await ws.close()
    return frames


async def test_by_default_a_run_outlives_its_last_socket_and_stays_resumable(
    server: Client,
) -> None:
    ws = await connect(server, "ada")
    started = await _start_sleeping_run(ws, 2)  # long enough to outlast the close
    await ws.close()
    await _closed_on_server(server, "ada")
    assert server.app[STATE].deps.runs().live_count == 1  # the socket went first, the run is going
    run = await _resume(server, "ada", started[0]["run_id"])
    assert_well_formed(run)
    assert run[-1]["data"]["status"] == "ok"


async def test_cancel_on_disconnect_cancels_a_run_once_its_last_socket_closes(
    start_server: ServerFactory,
) -> None:
    client = await start_server(**CANCEL_ON_DISCONNECT)
    ws = await connect(client, "ada")
    started = await _start_sleeping_run(ws, 30)
    await ws.close()
    await eventually(lambda: client.app[STATE].deps.runs().live_count == 0, within=5)  # not 30 s
    run = await _resume(client, "ada", started[0]["run_id"])
    assert_well_formed(run)
    assert run[-2]["data"]["status"] == "cancelled"  # the sleep's tool_completed
    assert run[-1]["data"]["status"] == "cancelled"


async def test_cancel_on_disconnect_spares_a_run_while_another_socket_is_open(
    start_server: ServerFactory,
) -> None:
    client = await start_server(**CANCEL_ON_DISCONNECT)
    first, second = await connect(client, "ada"), await connect(client, "ada")
    started = await _start_sleeping_run(first, 2)  # long enough to outlast the close
    await first.close()
    await _closed_on_server(client, "ada", left=1)
    assert client.app[STATE].deps.runs().live_count == 1  # the close came while the run was going
    run = await receive_until(second, completed)
    assert run[:len(started)] == started
    assert_well_formed(run)
    assert run[-1]["data"]["status"] == "ok"
    await second.close()


async def test_cancel_on_disconnect_spares_a_run_whose_socket_was_dropped_as_slow(
    start_server: ServerFactory,
) -> None:
    client = await start_server(ws={"send_queue": 4, "max_message_bytes": 8 * 1024 * 1024},
                                **CANCEL_ON_DISCONNECT)
    state = client.app[STATE]
    published: list[RunEvent] = []
    await state.deps.bus().subscribe("slow", published.append)
    # A 3 MB agent_started and 2 MB of echoed text fill the kernel's buffers behind a small TCP
    # window; what follows piles up past the send queue: the server gives up on the socket.
    echo = '/call echo {"text": "%s"}' % ("z" * 90_000)
    message = "\n".join(["y" * 3_000_000, *[echo] * 12, '/call sleep {"seconds": 3}'])
    async with stalling_client(client, "slow") as slow:
        await slow.send_str(json.dumps({"type": "chat", "message": message}))
        await eventually(lambda: any(
            e.type == "tool_executing" and e.data["tool"] == "sleep" for e in published))
        await _closed_on_server(client, "slow")
        assert state.deps.runs().live_count == 1  # the socket went while the run was sleeping
    await eventually(lambda: any(e.type == "agent_completed" for e in published))
    assert_well_formed(published)
    assert published[-1].data["status"] == "ok"
