"""Property-based fuzzing of the real WebSocket handler (hypothesis), and of every built-in tool.

Properties, for any frame a client can send: the server answers it as the protocol says (an
`error` with a client-side code, a `pong`, or a run), never with `internal_error`; nothing is
logged with a traceback; the socket keeps working; every run that started is well-formed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.helpers import ServerFactory, connect, receive
from toolwire import Settings, UserExecutionContext, create_container
from toolwire.services.tools.calls import ToolCall
from toolwire.testing import assert_well_formed

CLIENT_CODES = {"invalid_json", "invalid_message", "unknown_type", "rate_limited", "not_found"}
FUZZ_SETTINGS = {
    "limits": {"chats_per_minute": 1_000_000, "runs_per_user": 10_000},
    "tools": {"timeout_s": 0.5},
    "runs": {"max_duration_s": 5},
}
EXAMPLES = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

json_scalars = (st.none() | st.booleans() | st.integers() | st.text()
                | st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(["message", "run_id", "after_seq", "thread_id", "request_id",
                               "type", "user_id"])
frame_types = st.sampled_from(["chat", "cancel", "resume", "ping"]) | st.text(max_size=10)


@st.composite
def shaped_frames(draw: st.DrawFn) -> str:
    """A frame of a known type whose fields hold anything JSON can hold."""
    frame: dict[str, Any] = {"type": draw(frame_types)}
    frame.update(draw(st.dictionaries(field_names, json_values, max_size=4)))
    if draw(st.booleans()):
        frame["type"] = draw(frame_types)
    return json.dumps(frame)


@st.composite
def hostile_texts(draw: st.DrawFn) -> str:
    """JSON-looking text with what breaks parsers: depth, huge numbers, lone surrogates."""
    depth = draw(st.integers(1, 20_000))
    pieces = [
        "[" * depth + "]" * depth,
        "{\"a\":" * depth + "1" + "}" * depth,
        "9" * draw(st.integers(1, 8000)),
        "-" + "1" * draw(st.integers(19, 400)) + ".5e" + str(draw(st.integers(-999, 999))),
        '"' + draw(st.sampled_from(["\\ud800", "\\udfff", "\\ud800\\u0041", "\\u0000",
                                    "\\ud83d\\ude00", "\\"])) + '"',
        "NaN", "Infinity", "-Infinity", "1e999", "true", "null",
        '"' + "x" * draw(st.integers(0, 300_000)) + '"',
    ]
    value = draw(st.sampled_from(pieces))
    key = draw(field_names)
    kind = draw(frame_types)
    return draw(st.sampled_from([
        value,
        f'{{"type": "{kind}", "{key}": {value}}}',
        f'{{"type": "chat", "message": "hi", "{key}": {value}}}',
        f'{{"type": {value}}}',
    ]))


text_frames = st.text() | shaped_frames() | hostile_texts()


@dataclass
class Target:
    """One server and a socket on it, reconnected if the server closes it."""

    client: Any
    ws: aiohttp.ClientWebSocketResponse | None = None
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sentinels: itertools.count[int] = field(default_factory=itertools.count)
    frames_sent: int = 0

    async def socket(self) -> aiohttp.ClientWebSocketResponse:
        if self.ws is None or self.ws.closed:
            self.ws = await connect(self.client, "fuzzer")
        return self.ws

    async def exchange(self, frame: str | bytes) -> None:
        """Send `frame`, then a sentinel; check every answer in between."""
        ws = await self.socket()
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        self.frames_sent += 1
        sentinel = f"sentinel-{next(self.sentinels)}"
        await ws.send_json({"type": "cancel", "run_id": "r_nobody", "request_id": sentinel})
        while True:
            reply = await receive(ws)
            if "run_id" in reply and reply.get("type") != "error":
                self.runs.setdefault(reply["run_id"], []).append(reply)
                continue
            if reply == {"type": "pong"}:
                continue
            assert reply["type"] == "error", reply
            assert reply["code"] in CLIENT_CODES, reply
            if reply.get("request_id") == sentinel:
                assert reply["code"] == "not_found"
                return

    async def finish(self) -> None:
        """Wait until every run that started has ended, then check each one."""
        ws = await self.socket()
        async with asyncio.timeout(30):
            while any(run[-1]["type"] != "agent_completed" for run in self.runs.values()):
                reply = await receive(ws)
                if "run_id" in reply and reply.get("type") != "error":
                    self.runs.setdefault(reply["run_id"], []).append(reply)
        for run in self.runs.values():
            assert_well_formed(run)


@pytest.fixture
async def target(start_server: ServerFactory) -> AsyncIterator[Target]:
    client = await start_server(**FUZZ_SETTINGS)
    found = Target(client)
    yield found
    if found.ws is not None:
        await found.ws.close()


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@EXAMPLES
@given(frame=text_frames)
async def test_any_text_frame_is_answered_and_the_socket_keeps_working(
    target: Target, frame: str, caplog: pytest.LogCaptureFixture,
) -> None:
    await target.exchange(frame)
    assert not no_tracebacks(caplog)


@EXAMPLES
@given(frame=st.binary(max_size=4096))
async def test_any_binary_frame_is_refused_and_the_socket_keeps_working(
    target: Target, frame: bytes, caplog: pytest.LogCaptureFixture,
) -> None:
    await target.exchange(frame)
    assert not no_tracebacks(caplog)


@EXAMPLES
@given(message=st.text(min_size=1) | st.builds(
    lambda tool, args: f"/call {tool} {args}",
    st.sampled_from(["echo", "calculator", "clock", "sleep", "nope"]),
    st.text() | json_values.map(json.dumps)))
async def test_any_chat_message_gives_a_well_formed_run(
    target: Target, message: str, caplog: pytest.LogCaptureFixture,
) -> None:
    await target.exchange(json.dumps({"type": "chat", "message": message}))
    await target.finish()
    assert not no_tracebacks(caplog)


BUILTIN_TOOLS = ["calculator", "clock", "echo", "sleep"]


@pytest.fixture(scope="module")
def tool_settings() -> Settings:
    return Settings(env="test", tools={"timeout_s": 0.5})


def argument_sets(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    names = {"calculator": "expression", "clock": "tz", "echo": "text", "sleep": "seconds"}
    typed = {
        "calculator": st.text(max_size=1000) | st.from_regex(r"[-+*/%() 0-9.]{0,200}",
                                                             fullmatch=True),
        "clock": st.text(max_size=80),
        "echo": st.text(),
        # any number a sleep would wait out is small; everything else must be refused
        "sleep": st.floats(min_value=0, max_value=0.01) | json_values.filter(
            lambda v: isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0),
    }[tool]
    return (st.fixed_dictionaries({names[tool]: typed})
            | st.dictionaries(st.text(max_size=10), json_values, max_size=3))


@pytest.mark.parametrize("tool", BUILTIN_TOOLS)
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_every_builtin_tool_answers_ok_or_error_for_any_arguments(
    tool: str, data: st.DataObject, tool_settings: Settings,
) -> None:
    args = data.draw(argument_sets(tool))
    container = create_container(tool_settings)
    async with container.request_scope(UserExecutionContext.for_user("fuzzer")) as scope:
        async with asyncio.timeout(5):
            outcome = await scope.executor.execute(ToolCall(tool, args))
    assert outcome.status in ("ok", "error"), (tool, args, outcome)
    if outcome.status == "ok":
        json.dumps(outcome.result, allow_nan=False)  # strict JSON, always
    else:
        assert outcome.error is not None and outcome.error.message
