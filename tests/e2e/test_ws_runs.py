"""Cancel, resume and request-id dedupe, each checked against another user too."""

from __future__ import annotations

from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import (
    Frame,
    chat_run,
    completed,
    connect,
    receive,
    receive_until,
)
from toolwire.testing import assert_well_formed

Client = TestClient[web.Request, web.Application]


async def _start_sleeping_run(ws: ClientWebSocketResponse, seconds: float = 30) -> list[Frame]:
    await ws.send_json({"type": "chat", "message": f'/call sleep {{"seconds": {seconds}}}'})
    return await receive_until(ws, lambda f: f["type"] == "tool_executing")


async def test_cancel_mid_tool_ends_cancelled(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await _start_sleeping_run(ws)
    run_id = frames[0]["run_id"]
    await ws.send_json({"type": "cancel", "run_id": run_id})
    frames += await receive_until(ws, completed, within_s=5)
    assert_well_formed(frames)
    assert frames[-2]["type"] == "tool_completed"
    assert frames[-2]["data"]["status"] == "cancelled"
    assert frames[-1]["data"]["status"] == "cancelled"
    await ws.close()


async def test_another_users_run_looks_exactly_like_an_unknown_one(server: Client) -> None:
    ada = await connect(server, "ada")
    mallory = await connect(server, "mallory")
    run_id = (await _start_sleeping_run(ada, 0.5))[0]["run_id"]

    async def answer(kind: str, target: str) -> dict[str, object]:
        fields = {"after_seq": 0} if kind == "resume" else {}
        await mallory.send_json({"type": kind, "run_id": target, **fields})
        frame = await receive(mallory)
        return {**frame, "message": str(frame["message"]).replace(target, "<id>")}

    unknown = {kind: await answer(kind, "r_0123456789abcdef") for kind in ("cancel", "resume")}
    for kind in ("cancel", "resume"):
        assert await answer(kind, run_id) == unknown[kind]
        assert unknown[kind]["code"] == "not_found"
    rest = await receive_until(ada, completed)
    assert rest[-1]["data"]["status"] == "ok"  # mallory's cancel did nothing
    assert await answer("resume", run_id) == unknown["resume"]  # also once it has ended
    await ada.close()
    await mallory.close()


async def test_unknown_runs_are_not_found(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_json({"type": "cancel", "run_id": "r_nope"})
    assert (await receive(ws))["code"] == "not_found"
    await ws.send_json({"type": "resume", "run_id": "r_nope", "after_seq": 0})
    assert (await receive(ws))["code"] == "not_found"
    await ws.close()


async def test_cancelling_an_own_ended_run_is_a_no_op(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "hi")
    await ws.send_json({"type": "cancel", "run_id": frames[0]["run_id"]})
    await ws.send_json({"type": "ping"})
    assert await receive(ws) == {"type": "pong"}
    await ws.close()


async def test_resume_after_a_dropped_socket_replays_the_gap_then_goes_live(
    server: Client,
) -> None:
    first = await connect(server, "ada")
    message = '/call echo {"text": "a"}\n/call sleep {"seconds": 0.6}\n/call echo {"text": "b"}'
    await first.send_json({"type": "chat", "message": message})
    seen = await receive_until(first, lambda f: f["type"] == "tool_completed")  # echo a done
    await first.close()
    run_id, last_seq = seen[0]["run_id"], seen[-1]["seq"]

    second = await connect(server, "ada")
    await second.send_json({"type": "resume", "run_id": run_id, "after_seq": last_seq})
    rest = await receive_until(second, completed)
    assert rest[0]["seq"] == last_seq + 1
    assert_well_formed(seen + rest)
    assert [f["data"].get("tool") for f in rest if f["type"] == "tool_completed"] == [
        "sleep", "echo"]
    await second.close()


async def test_resume_of_an_ended_run_replays_exactly_after_seq(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "what is 6*7?")
    await ws.send_json({"type": "resume", "run_id": frames[0]["run_id"], "after_seq": 2})
    replayed = await receive_until(ws, completed)
    assert replayed == frames[2:]
    await ws.close()


async def test_resume_during_a_live_run_has_no_duplicate_and_no_gap(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await _start_sleeping_run(ws, 0.3)
    await ws.send_json({"type": "resume", "run_id": frames[0]["run_id"], "after_seq": 1})
    got = await receive_until(ws, completed)
    seqs = [f["seq"] for f in got]
    assert seqs == list(range(2, seqs[-1] + 1))
    assert_well_formed(frames[:1] + got)
    await ws.close()


async def test_a_repeated_request_id_replays_the_ended_run_from_seq_1(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "hi", request_id="q-once")
    retry = await connect(server, "ada")  # a client that retries, on a new socket
    await retry.send_json({"type": "chat", "message": "hi again", "request_id": "q-once"})
    assert await receive_until(retry, completed) == frames  # exactly what the first try showed
    await retry.send_json({"type": "ping"})
    assert await receive(retry) == {"type": "pong"}  # and no second run
    other = await chat_run(ws, "hi", request_id="q-twice")
    assert other[0]["run_id"] != frames[0]["run_id"]
    for socket in (ws, retry):
        await socket.close()


async def test_a_repeated_request_id_while_running_replays_and_starts_nothing(
    server: Client,
) -> None:
    ws = await connect(server, "ada")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 0.3}',
                        "request_id": "q-same"})
    first = await receive(ws)
    retry = await connect(server, "ada")
    await retry.send_json({"type": "chat", "message": '/call sleep {"seconds": 0.3}',
                           "request_id": "q-same"})
    replayed = await receive_until(retry, completed)
    assert replayed[0] == first  # from seq 1, the run already going
    assert_well_formed(replayed)
    original = [first, *await receive_until(ws, completed)]
    assert original == replayed
    for socket in (ws, retry):
        await socket.send_json({"type": "ping"})
        assert await receive(socket) == {"type": "pong"}  # one run only
        await socket.close()
