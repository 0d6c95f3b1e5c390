"""The stand-in model speaks the chat-completions API as the official `openai` SDK reads it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionFunctionToolParam
from pytest_aiohttp import AiohttpServer

from toolwire import Settings, UserExecutionContext
from toolwire.adapters.stand_in_model import create_stand_in_app
from toolwire.container import close_resources, create_container

CALCULATOR: ChatCompletionFunctionToolParam = {"type": "function", "function": {
    "name": "calculator", "description": "Compute.",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}}}}


@pytest_asyncio.fixture
async def base_url(aiohttp_server: AiohttpServer) -> str:
    server = await aiohttp_server(create_stand_in_app())
    return str(server.make_url("/v1"))


@pytest_asyncio.fixture
async def client(base_url: str) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=base_url, api_key="anything", max_retries=0) as openai:
        yield openai


async def test_a_stream_calls_a_tool_and_reports_usage_last(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="stand-in", messages=[{"role": "user", "content": "what is 6*7?"}],
        tools=[CALCULATOR], stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    pieces = [c.choices[0].delta.tool_calls for c in chunks if c.choices]
    arguments = "".join(p[0].function.arguments or "" for p in pieces if p and p[0].function)
    assert json.loads(arguments) == {"expression": "6*7"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == (
        chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens) > 0
    assert all(c.usage is None for c in chunks[:-1])


async def test_a_stream_without_include_usage_has_no_usage(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="stand-in", messages=[{"role": "user", "content": "good morning"}], stream=True)
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "You said: good morning")
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # streamed
    assert all(c.usage is None for c in chunks)


async def test_a_completion_without_stream_carries_its_usage(client: AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="stand-in", messages=[{"role": "user", "content": "what is 2+3?"}],
        tools=[CALCULATOR])
    [call] = completion.choices[0].message.tool_calls or []
    assert call.type == "function" and call.function.name == "calculator"
    assert json.loads(call.function.arguments) == {"expression": "2+3"}
    assert completion.usage is not None and completion.usage.completion_tokens > 0


async def test_a_request_without_messages_is_refused_like_the_api(client: AsyncOpenAI) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="messages"):
        await client.chat.completions.create(model="stand-in", messages=[])


async def test_the_openai_backend_answers_through_it(base_url: str) -> None:
    container = create_container(Settings(env="test", agent={
        "backend": "openai", "base_url": base_url, "api_key": "anything"}))
    try:
        async with container.request_scope(UserExecutionContext.for_user("ada")) as scope:
            final = await scope.run("what is 6*7?")
    finally:
        await close_resources(container)
    assert (final.status, final.answer) == ("ok", "6*7 = 42")
