"""Threads on Redis with real `toolwire serve` processes: shared by instances, kept across
restarts of toolwire and (with AOF) of Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.e2e.served import Served, open_socket, serve, token
from tests.fixtures_redis import RedisServer

pytestmark = pytest.mark.redis


def _settings(redis: RedisServer) -> dict[str, str]:
    return {"TOOLWIRE_LOG_LEVEL": "WARNING", "TOOLWIRE_EVENTS__BACKEND": "redis",
            "TOOLWIRE_EVENTS__REDIS_URL": redis.url, "TOOLWIRE_RUNS__SHUTDOWN_GRACE_S": "1"}


async def _ask(session: aiohttp.ClientSession, served: Served, user: str, message: str,
               thread_id: str) -> str:
    ws = await open_socket(session, served, user)
    try:
        request_id = f"q-{message}-{thread_id}"
        await ws.send_json({"type": "chat", "message": message, "thread_id": thread_id,
                            "request_id": request_id})
        run_id = None  # the socket gets every event of the user: follow this chat's run
        async with asyncio.timeout(20):
            while True:
                frame: dict[str, Any] = await ws.receive_json()
                assert frame["type"] != "error", frame
                if frame["type"] == "agent_started" and \
                        frame["data"]["request_id"] == request_id:
                    run_id = frame["run_id"]
                if frame["type"] == "agent_completed" and frame["run_id"] == run_id:
                    return str(frame["data"]["answer"])
    finally:
        await ws.close()


async def _get(session: aiohttp.ClientSession, served: Served, user: str,
               path: str, method: str = "GET") -> tuple[int, Any]:
    bearer = await token(session, served.url, user)
    async with session.request(method, f"{served.url}{path}",
                               headers={"Authorization": f"Bearer {bearer}"}) as response:
        body = await response.json() if response.status == 200 else None
        return response.status, body


async def test_two_instances_share_threads_and_a_restart_keeps_them(
    durable_redis_server: RedisServer,
) -> None:
    settings = _settings(durable_redis_server)
    async with aiohttp.ClientSession() as session:
        async with serve(**settings) as first, serve(**settings) as second:
            assert await _ask(session, first, "ada", "what is 6*7?", "maths") == "6*7 = 42"
            assert await _ask(session, second, "ada", "ans*2", "maths") == "42*2 = 84"
            assert await _ask(session, second, "bob", "ans*2", "maths") != "42*2 = 84"
            status, page = await _get(session, first, "ada", "/threads")
            assert status == 200
            assert [(t["thread_id"], t["turns"]) for t in page["threads"]] == [("maths", 2)]
            await _ask(session, first, "ada", "hello", "to-delete")
            assert (await _get(session, second, "ada", "/threads/to-delete", "DELETE"))[0] == 204
            assert (await _get(session, first, "ada", "/threads/to-delete"))[0] == 404
        async with serve(**settings) as restarted:
            status, thread = await _get(session, restarted, "ada", "/threads/maths")
            assert status == 200
            assert [t["answer"] for t in thread["turns"]] == ["6*7 = 42", "42*2 = 84"]
            durable_redis_server.stop()
            durable_redis_server.start()
            assert await _ask(session, restarted, "ada", "ans+1", "maths") == "84+1 = 85"
            assert restarted.tracebacks() == []


async def test_a_thread_busy_on_one_instance_is_a_conflict_on_the_other(
    redis_server: RedisServer,
) -> None:
    settings = _settings(redis_server)
    async with aiohttp.ClientSession() as session, serve(**settings) as first, \
            serve(**settings) as second:
        ws = await open_socket(session, first, "ada")
        await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}',
                            "thread_id": "busy"})
        run_id = (await ws.receive_json(timeout=10))["run_id"]
        other = await open_socket(session, second, "ada")
        await other.send_json({"type": "chat", "message": "hi", "thread_id": "busy"})
        refused = await other.receive_json(timeout=10)
        while refused["type"] != "error":
            refused = await other.receive_json(timeout=10)
        assert refused["code"] == "conflict"
        assert run_id in refused["message"]
        status, thread = await _get(session, second, "ada", "/threads/busy")
        assert (status, thread["active_run_id"]) == (200, run_id)
        await other.send_json({"type": "cancel", "run_id": run_id})
        await ws.close()
        await other.close()
