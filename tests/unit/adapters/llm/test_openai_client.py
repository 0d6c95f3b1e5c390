"""`OpenAIChatClient` against a loopback server: the request it sends, the errors it raises."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from pydantic import SecretStr
from pytest_aiohttp import AiohttpServer

from toolwire.adapters.llm import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
    ModelToolCall,
    OpenAIChatClient,
)
from toolwire.services.tools.builtin.calculator import calculator

KEY = "sk-test-0123456789abcdef"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Serve = Callable[[Handler], Awaitable[OpenAIChatClient]]
MESSAGES = [{"role": "user", "content": "what is 6*7?"}]


@pytest_asyncio.fixture
async def serve(aiohttp_server: AiohttpServer) -> AsyncIterator[Serve]:
    """Serve `handler` at `/v1/chat/completions`; return a client pointed at it."""
    clients: list[OpenAIChatClient] = []

    async def start(handler: Handler) -> OpenAIChatClient:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", handler)
        server = await aiohttp_server(app)
        client = OpenAIChatClient(
            base_url=str(server.make_url("/v1/")), api_key=SecretStr(KEY), timeout_s=5)
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.aclose()


async def test_the_request_carries_model_messages_tools_and_the_key(serve: Serve) -> None:
    seen: list[tuple[str | None, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({"choices": [{"message": {"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "calculator", "arguments": '{"expression":"6*7"}'}}]}}]})

    client = await serve(handler)
    reply = await client.complete(model="gpt-test", messages=MESSAGES, tools=[calculator])
    assert reply.tool_calls == (ModelToolCall("call_1", "calculator", '{"expression":"6*7"}'),)
    [(authorization, payload)] = seen
    assert authorization == f"Bearer {KEY}"
    assert payload == {"model": "gpt-test", "messages": MESSAGES, "tools": [{
        "type": "function",
        "function": {"name": "calculator", "description": calculator.description,
                     "parameters": calculator.json_schema()},
    }]}


async def test_no_tools_means_no_tools_field(serve: Serve) -> None:
    payloads: list[Any] = []

    async def handler(request: web.Request) -> web.Response:
        payloads.append(await request.json())
        return web.json_response({"choices": [{"message": {"content": "Hi."}}]})

    reply = await (await serve(handler)).complete(model="m", messages=MESSAGES)
    assert reply.content == "Hi."
    assert "tools" not in payloads[0]


async def test_an_http_error_names_status_and_api_message_but_not_the_key(serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": {"message": f"Incorrect API key provided: {KEY}.", "type": "auth"}},
            status=401)

    with pytest.raises(ModelHTTPError) as info:
        await (await serve(handler)).complete(model="m", messages=MESSAGES)
    assert info.value.status == 401
    assert "HTTP 401" in str(info.value) and "Incorrect API key provided" in str(info.value)
    assert KEY not in str(info.value)


async def test_a_plain_text_error_body_is_shown_shortened(serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="upstream exploded " * 50, status=502)

    with pytest.raises(ModelHTTPError) as info:
        await (await serve(handler)).complete(model="m", messages=MESSAGES)
    assert info.value.status == 502
    assert info.value.detail.startswith("upstream exploded")
    assert len(info.value.detail) <= 200


async def test_a_body_that_is_not_json_is_malformed(serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="<html>proxy login</html>")

    with pytest.raises(MalformedReplyError, match="non-JSON"):
        await (await serve(handler)).complete(model="m", messages=MESSAGES)


async def test_a_slow_api_is_a_timeout_naming_the_setting(aiohttp_server: AiohttpServer) -> None:
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/chat/completions", handler)
    server = await aiohttp_server(app)
    client = OpenAIChatClient(base_url=str(server.make_url("")), api_key=None, timeout_s=0.2)
    try:
        async with asyncio.timeout(5):  # without a client timeout this fails, not hangs
            with pytest.raises(ModelTimeoutError, match=r"agent\.request_timeout_s"):
                await client.complete(model="m", messages=MESSAGES)
    finally:
        release.set()
        await client.aclose()


async def test_an_unreachable_api_is_a_clear_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAIChatClient(
        base_url=f"http://127.0.0.1:{port}/v1", api_key=SecretStr(KEY), timeout_s=5)
    try:
        with pytest.raises(ModelAPIError, match="could not reach the model API") as info:
            await client.complete(model="m", messages=MESSAGES)
    finally:
        await client.aclose()
    assert f"127.0.0.1:{port}/v1/chat/completions" in str(info.value)
    assert KEY not in str(info.value)


async def test_a_closed_client_opens_a_new_session_on_next_use(serve: Serve) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({"choices": [{"message": {"content": "again"}}]})

    client = await serve(handler)
    await client.complete(model="m", messages=MESSAGES)
    await client.aclose()
    await client.aclose()
    assert (await client.complete(model="m", messages=MESSAGES)).content == "again"
