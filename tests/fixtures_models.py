"""Real servers on loopback for the model and MCP tests.

`scripted_model`: an OpenAI-compatible chat-completions server (aiohttp, free port) that plays
a script of recorded response shapes: streamed answers, tool calls (one, parallel, with broken
JSON), HTTP errors, slow answers. `mcp_http_server`: the demo MCP server of tests/mcp_demo over
streamable HTTP in a subprocess; `DEMO_STDIO` is the same server's stdio command.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from tests.support import free_port

if TYPE_CHECKING:
    from toolwire.container import ApplicationContainer

DEMO_SERVER = Path(__file__).parent / "mcp_demo" / "demo_server.py"
DEMO_STDIO = [sys.executable, str(DEMO_SERVER)]
API_KEY = "sk-test-do-not-leak-4f1c9e"
MODEL = "gpt-test"

Step = Callable[[web.Request, dict[str, Any]], Awaitable[web.StreamResponse]]
Call = tuple[str, str]
"""A tool call the scripted model makes: (tool name, arguments as the JSON text it writes)."""
Usage = tuple[int, int]
"""Tokens a streamed response reported: (prompt, completion)."""
REPORTED = web.RequestKey("scripted_model_usage", list[Usage])  # where a stream reports it
PAYLOAD = web.RequestKey("scripted_model_payload", dict[str, Any])


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """Return one `chat.completion.chunk` the way OpenAI streams it."""
    return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1764000000,
            "model": MODEL, "system_fingerprint": "fp_test",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def usage_of(payload: dict[str, Any], chunks: list[dict[str, Any]]) -> Usage:
    """Return the tokens the scripted model reports: a fixed function of what it got and sent."""
    return len(json.dumps(payload["messages"])) // 4, 3 * len(chunks)


async def _stream(request: web.Request, chunks: list[dict[str, Any]],
                  pause_s: float = 0.0) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for chunk in chunks:
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        if pause_s:
            await asyncio.sleep(pause_s)
    reported = request.get(REPORTED)
    if reported is not None:  # the client asked for `stream_options.include_usage`
        prompt, completion = usage_of(request[PAYLOAD], chunks)
        reported.append((prompt, completion))
        await response.write(f"data: {json.dumps(_usage_chunk(prompt, completion))}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _usage_chunk(prompt: int, completion: int) -> dict[str, Any]:
    """Return the last chunk of a stream with `include_usage`: no choices, the usage."""
    return {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1764000000,
            "model": MODEL, "choices": [], "usage": {
                "prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}}


def answer(*pieces: str, pause_s: float = 0.0) -> Step:
    """Script a streamed final answer, sent as `pieces` (one delta each)."""
    async def step(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        chunks = [_chunk({"role": "assistant", "content": ""})]
        chunks += [_chunk({"content": piece}) for piece in pieces]
        chunks.append(_chunk({}, "stop"))
        return await _stream(request, chunks, pause_s)
    return step


def tool_calls(*calls: Call, content: str = "") -> Step:
    """Script a turn asking for `calls` at once (arguments streamed in two pieces each)."""
    async def step(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        chunks = [_chunk({"role": "assistant", "content": content or None})]
        for index, (name, arguments) in enumerate(calls):
            half = len(arguments) // 2
            chunks.append(_chunk({"tool_calls": [{
                "index": index, "id": f"call_{index}", "type": "function",
                "function": {"name": name, "arguments": arguments[:half]}}]}))
            chunks.append(_chunk({"tool_calls": [{
                "index": index, "function": {"arguments": arguments[half:]}}]}))
        chunks.append(_chunk({}, "tool_calls"))
        return await _stream(request, chunks)
    return step


async def answer_from_tools(request: web.Request, payload: dict[str, Any]) -> web.StreamResponse:
    """Answer with the tool results the request carries, as a model would quote them."""
    results = [json.loads(m["content"]) for m in payload["messages"] if m["role"] == "tool"]
    return await answer(json.dumps(results))(request, payload)


def http_error(status: int, message: str, **headers: str) -> Step:
    """Script an OpenAI-style error response."""
    async def step(request: web.Request, _: dict[str, Any]) -> web.StreamResponse:
        return web.json_response({"error": {"message": message, "type": "server_error",
                                            "param": None, "code": None}},
                                 status=status, headers=headers)
    return step


def slow(seconds: float) -> Step:
    """Script a response that starts after `seconds` (past a short client timeout)."""
    async def step(request: web.Request, payload: dict[str, Any]) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return await answer("too late")(request, payload)
    return step


@dataclass
class ScriptedModel:
    """Plays `script` one step per request (then `forever`, if set) and records each request."""

    script: list[Step]
    forever: Step | None = None
    url: str = ""
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    usage: list[Usage] = field(default_factory=list)
    """The tokens each streamed response reported, in order (when the client asked)."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        self.requests.append((dict(request.headers), payload))
        if (payload.get("stream_options") or {}).get("include_usage"):
            request[REPORTED] = self.usage
            request[PAYLOAD] = payload
        if self.script:
            return await self.script.pop(0)(request, payload)
        if self.forever is not None:
            return await self.forever(request, payload)
        return web.json_response({"error": {"message": "unscripted request"}}, status=400)

    def payload(self, index: int) -> dict[str, Any]:
        """Return the JSON body of request `index`."""
        return self.requests[index][1]

    def agent_settings(self, **overrides: Any) -> dict[str, Any]:
        """Return `agent` settings that point the openai backend here (fast retries)."""
        return {"backend": "openai", "base_url": self.url, "api_key": API_KEY, "model": MODEL,
                "request_timeout_s": 5, "max_retries": 2, **overrides}


StartModel = Callable[..., Awaitable[ScriptedModel]]


@pytest_asyncio.fixture
async def scripted_model(aiohttp_server: AiohttpServer) -> StartModel:
    """Start a scripted model: `await scripted_model(step, …, forever=step)`."""

    async def start(*steps: Step, forever: Step | None = None) -> ScriptedModel:
        model = ScriptedModel(list(steps), forever)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", model.handle)
        server = await aiohttp_server(app)
        model.url = str(server.make_url("/v1"))
        return model

    return start




@dataclass
class McpHttpServer:
    """The demo MCP server over streamable HTTP in a subprocess, restartable on its port."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the server's MCP endpoint."""
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [*DEMO_STDIO, "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the MCP demo server exited"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the MCP demo server did not listen within 30 s")

    def stop(self) -> None:
        """Stop the server (its sessions are gone with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def mcp_http_server() -> Iterator[McpHttpServer]:
    """The demo MCP server on a free port over streamable HTTP; stopped after the test."""
    server = McpHttpServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def closing() -> AsyncIterator[Callable[[ApplicationContainer], ApplicationContainer]]:
    """Register containers whose app-wide resources are closed after the test."""
    from toolwire.container import close_resources

    containers: list[ApplicationContainer] = []

    def register(container: ApplicationContainer) -> ApplicationContainer:
        containers.append(container)
        return container

    yield register
    for container in reversed(containers):
        await close_resources(container)
