"""Threads over real sockets: a chat remembers its thread, `/threads` shows and deletes it."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import ServerFactory, chat_run, connect, token_for

Client = TestClient[web.Request, web.Application]


async def _get(client: Client, token: str, path: str) -> tuple[int, Any]:
    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    body = await response.json() if response.status != 204 else None
    return response.status, body


async def test_a_chat_on_a_thread_sees_its_earlier_turns(server: Client) -> None:
    ws = await connect(server, "ada")
    first = await chat_run(ws, "what is 6*7?", thread_id="maths")
    second = await chat_run(ws, "ans*2", thread_id="maths")
    history = await chat_run(ws, "/history", thread_id="maths")
    assert first[-1]["data"]["answer"] == "6*7 = 42"
    assert second[-1]["data"]["answer"] == "42*2 = 84"
    assert history[-1]["data"]["answer"] == "1. what is 6*7?\n2. ans*2"
    await ws.close()


async def test_a_chat_without_thread_id_starts_a_new_thread(server: Client) -> None:
    ws = await connect(server, "ada")
    first = await chat_run(ws, "what is 6*7?")
    second = await chat_run(ws, "ans*2")
    assert first[0]["thread_id"] != second[0]["thread_id"]
    assert "no earlier numeric answer" in second[-1]["data"]["answer"]
    await ws.close()


async def test_threads_list_shows_the_callers_threads_newest_first(server: Client) -> None:
    ws = await connect(server, "ada")
    await chat_run(ws, "what is 1+1?", thread_id="older")
    await chat_run(ws, "hello there", thread_id="newer")
    token = await token_for(server, "ada")
    status, page = await _get(server, token, "/threads")
    assert status == 200
    assert [t["thread_id"] for t in page["threads"]] == ["newer", "older"]
    assert page["threads"][1]["title"] == "what is 1+1?"
    assert page["threads"][1]["turns"] == 1
    assert set(page["threads"][0]) == {"thread_id", "title", "created_at", "updated_at", "turns"}
    assert page["next"] is None
    status, first = await _get(server, token, "/threads?limit=1")
    assert [t["thread_id"] for t in first["threads"]] == ["newer"]
    status, rest = await _get(server, token, f"/threads?limit=1&before={first['next']}")
    assert [t["thread_id"] for t in rest["threads"]] == ["older"]
    assert rest["next"] is None
    await ws.close()


async def test_a_thread_shows_its_turns_with_tool_calls(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "what is 6*7?", thread_id="t")
    token = await token_for(server, "ada")
    status, thread = await _get(server, token, "/threads/t")
    assert status == 200
    assert thread["thread_id"] == "t"
    assert thread["active_run_id"] is None
    (turn,) = thread["turns"]
    assert turn["run_id"] == frames[0]["run_id"]
    assert turn["message"] == "what is 6*7?"
    assert turn["status"] == "ok"
    assert turn["answer"] == "6*7 = 42"
    assert turn["tool_calls"][0]["args"] == {"expression": "6*7"}
    assert turn["tool_calls"][0]["result"] == 42
    await ws.close()


async def test_a_thread_names_the_run_going_on_it(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}',
                        "thread_id": "busy"})
    started = await ws.receive_json(timeout=10)
    token = await token_for(server, "ada")
    status, thread = await _get(server, token, "/threads/busy")
    assert status == 200
    assert thread["active_run_id"] == started["run_id"]
    assert thread["turns"] == []
    await ws.send_json({"type": "cancel", "run_id": started["run_id"]})
    await ws.close()


async def test_another_users_thread_is_not_found_and_untouched(server: Client) -> None:
    ada = await connect(server, "ada")
    await chat_run(ada, "what is 6*7?", thread_id="shared-name")
    mallory = await connect(server, "mallory")
    answer = (await chat_run(mallory, "ans*2", thread_id="shared-name"))[-1]["data"]["answer"]
    assert "no earlier numeric answer" in answer
    token = await token_for(server, "mallory")
    _, page = await _get(server, token, "/threads")
    assert [t["turns"] for t in page["threads"]] == [1]  # mallory's own thread only
    _, thread = await _get(server, token, "/threads/shared-name")
    assert [t["message"] for t in thread["turns"]] == ["ans*2"]
    status, body = await _get(server, token, "/threads/only-ada-has-this")
    assert status == 404
    assert body["error"] == "not_found"
    response = await server.delete("/threads/shared-name",
                                   headers={"Authorization": f"Bearer {token}"})
    assert response.status == 204
    ada_token = await token_for(server, "ada")
    _, kept = await _get(server, ada_token, "/threads/shared-name")
    assert [t["message"] for t in kept["turns"]] == ["what is 6*7?"]
    await ada.close()
    await mallory.close()


async def test_delete_erases_the_thread_and_its_runs_events(server: Client) -> None:
    ws = await connect(server, "ada")
    frames = await chat_run(ws, "what is 6*7?", thread_id="gone")
    run_id = frames[0]["run_id"]
    token = await token_for(server, "ada")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await server.delete("/threads/gone", headers=headers)).status == 204
    assert (await _get(server, token, "/threads/gone"))[0] == 404
    assert (await server.delete("/threads/gone", headers=headers)).status == 404
    await ws.send_json({"type": "resume", "run_id": run_id, "after_seq": 0})
    assert (await ws.receive_json(timeout=10))["code"] == "not_found"
    await ws.close()


async def test_threads_need_a_token_and_a_sane_query(server: Client) -> None:
    assert (await server.get("/threads")).status == 401
    assert (await server.get("/threads/x")).status == 401
    assert (await server.delete("/threads/x")).status == 401
    token = await token_for(server, "ada")
    assert (await _get(server, token, "/threads?limit=0"))[0] == 400
    assert (await _get(server, token, "/threads?limit=abc"))[0] == 400
    assert (await _get(server, token, "/threads?before=%%%"))[0] == 400


async def test_a_chat_on_a_busy_thread_is_a_conflict_naming_the_run(server: Client) -> None:
    ws = await connect(server, "ada")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}',
                        "thread_id": "busy", "request_id": "q-1"})
    started = await ws.receive_json(timeout=10)
    await ws.send_json({"type": "chat", "message": "hi", "thread_id": "busy",
                        "request_id": "q-2"})
    refused = await ws.receive_json(timeout=10)
    while refused["type"] != "error":  # the first run's own events go on meanwhile
        refused = await ws.receive_json(timeout=10)
    assert refused["code"] == "conflict"
    assert refused["request_id"] == "q-2"
    assert started["run_id"] in refused["message"]
    await ws.send_json({"type": "cancel", "run_id": started["run_id"]})
    await ws.close()


async def test_interrupt_cancels_the_threads_run_for_the_new_chat(
    start_server: ServerFactory,
) -> None:
    server = await start_server(threads={"on_busy": "interrupt"})
    ws = await connect(server, "ada")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}',
                        "thread_id": "t"})
    first = (await ws.receive_json(timeout=10))["run_id"]
    await ws.send_json({"type": "chat", "message": "what is 1+1?", "thread_id": "t"})
    ends: dict[str, str] = {}
    while len(ends) < 2:
        frame = await ws.receive_json(timeout=10)
        if frame["type"] == "agent_completed":
            ends[frame["run_id"]] = frame["data"]["status"]
    assert ends.pop(first) == "cancelled"
    assert list(ends.values()) == ["ok"]
    token = await token_for(server, "ada")
    _, thread = await _get(server, token, "/threads/t")
    assert [t["status"] for t in thread["turns"]] == ["cancelled", "ok"]
    await ws.close()
