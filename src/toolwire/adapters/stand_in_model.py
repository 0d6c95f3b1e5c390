"""A stand-in OpenAI-compatible model: try `agent.backend=openai` without a model.

It answers `POST /v1/chat/completions` like the real API — streamed chunks (and `[DONE]`) or
one completion, tool calls with their arguments in pieces, `usage` (in the last chunk when
`stream_options.include_usage` asks for it) — and decides deterministically, as the embedded
agent does: a `/call <tool> <json>` line calls that tool, arithmetic calls `calculator`, a
time question calls `clock` (in the IANA zone it names), each only when the request offers
that tool; tool results are quoted back as the answer; anything else is echoed.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from toolwire.services.agents.embedded import (
    asks_for_time,
    call_lines,
    find_arithmetic,
    find_zone,
)

MODEL: Final = "stand-in"
CHARS_PER_TOKEN: Final = 4
"""Token counts in `usage` are the characters divided by this: a stand-in's approximation."""
_WORDS: Final = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the stand-in makes: the tool and its arguments as the JSON text it writes."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One assistant turn: text, or tool calls."""

    text: str = ""
    calls: tuple[ToolCall, ...] = ()


def reply_to(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Reply:
    """Decide the next assistant turn of a conversation, deterministically."""
    if messages and messages[-1].get("role") == "tool":
        return Reply(text=_quote_results(messages))
    user: dict[str, Any] = next(
        (m for m in reversed(messages) if m.get("role") == "user"), {})
    text = _text(user.get("content"))
    offered = {t.get("function", {}).get("name") for t in tools if isinstance(t, dict)}
    calls = [ToolCall(m["tool"], m["args"].strip() or "{}") for m in call_lines(text)
             if m["tool"] in offered]
    if not calls:
        expression = find_arithmetic(text) if "calculator" in offered else None
        if expression is not None:
            calls.append(ToolCall("calculator", json.dumps({"expression": expression})))
        if "clock" in offered and asks_for_time(text):
            zone = find_zone(text)
            calls.append(ToolCall("clock", json.dumps({"tz": zone} if zone else {})))
    if calls:
        return Reply(calls=tuple(calls))
    return Reply(text=f"You said: {text}")


def _quote_results(messages: list[dict[str, Any]]) -> str:
    """Answer with the results of the last turn's tool calls, one clause each."""
    end = len(messages)
    while end and messages[end - 1].get("role") == "tool":
        end -= 1
    results = {m.get("tool_call_id"): _text(m.get("content")) for m in messages[end:]}
    asked = (messages[end - 1].get("tool_calls") or []) if end else []
    clauses = []
    for call in asked:
        function = call.get("function", {})
        content = results.get(call.get("id"), "")
        clauses.append(_clause(function.get("name", "?"), function.get("arguments", ""), content))
    return "; ".join(clauses) or "The tools answered nothing."


def _clause(name: str, arguments: str, content: str) -> str:
    try:
        body = json.loads(content)
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return f"{name} returned {content}"
    if isinstance(body, dict) and "error" in body:
        error = body["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        return f"{name} failed: {message}"
    result = body.get("result", body) if isinstance(body, dict) else body
    if name == "calculator" and isinstance(args, dict) and "expression" in args:
        return f"{args['expression']} = {_number(result)}"
    if name == "clock" and isinstance(result, dict) and "iso" in result:
        return f"it is {result['iso']} ({result.get('tz', 'UTC')})"
    return f"{name} returned {json.dumps(result, ensure_ascii=False)}"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(content: Any) -> str:
    """Return a message's content as text (a string, or a list of text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def usage(messages: list[dict[str, Any]], reply: Reply) -> dict[str, int]:
    """Return the `usage` object of a reply (tokens approximated from characters)."""
    prompt = sum(len(_text(m.get("content"))) for m in messages)
    completion = len(reply.text) + sum(len(c.name) + len(c.arguments) for c in reply.calls)
    prompt_tokens = -(-prompt // CHARS_PER_TOKEN)
    completion_tokens = max(1, -(-completion // CHARS_PER_TOKEN))
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


class Completions:
    """Builds completions and chunks in the shapes the OpenAI API sends."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _head(self, kind: str, model: str) -> dict[str, Any]:
        return {"id": f"chatcmpl-stand-in-{next(self._ids)}", "object": kind,
                "created": int(time.time()), "model": model, "system_fingerprint": "fp_stand_in"}

    def completion(self, reply: Reply, model: str, used: dict[str, int]) -> dict[str, Any]:
        """Return one `chat.completion` (the reply to a request without `stream`)."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None,
                                   "refusal": None}
        if reply.calls:
            message["tool_calls"] = [
                {"id": f"call_{i}", "type": "function",
                 "function": {"name": c.name, "arguments": c.arguments}}
                for i, c in enumerate(reply.calls)]
        finish = "tool_calls" if reply.calls else "stop"
        return {**self._head("chat.completion", model), "usage": used, "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}]}

    def chunks(self, reply: Reply, model: str,
               used: dict[str, int] | None) -> Iterator[dict[str, Any]]:
        """Yield the `chat.completion.chunk`s of a streamed reply; usage last, if asked for."""
        head = self._head("chat.completion.chunk", model)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {**head, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                         "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": "", "refusal": None})
        for piece in _WORDS.findall(reply.text):
            yield chunk({"content": piece})
        for index, call in enumerate(reply.calls):
            half = len(call.arguments) // 2
            yield chunk({"tool_calls": [{
                "index": index, "id": f"call_{index}", "type": "function",
                "function": {"name": call.name, "arguments": call.arguments[:half]}}]})
            yield chunk({"tool_calls": [{
                "index": index, "function": {"arguments": call.arguments[half:]}}]})
        yield chunk({}, "tool_calls" if reply.calls else "stop")
        if used is not None:
            yield {**head, "choices": [], "usage": used}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error",
                                        "param": None, "code": None}}, status=status)


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    try:
        payload = await request.json()
    except ValueError:
        return _error(400, "the body is not JSON")
    messages = payload.get("messages") if isinstance(payload, dict) else None
    if not isinstance(messages, list) or not messages:
        return _error(400, "'messages' must be a non-empty list")
    tools = payload.get("tools") or []
    model = str(payload.get("model") or MODEL)
    reply = reply_to(messages, tools if isinstance(tools, list) else [])
    used = usage(messages, reply)
    completions = request.app[COMPLETIONS]
    if not payload.get("stream"):
        return web.json_response(completions.completion(reply, model, used))
    options = payload.get("stream_options") or {}
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
    await response.prepare(request)
    for chunk in completions.chunks(reply, model, used if include_usage else None):
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def _models(_: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [
        {"id": MODEL, "object": "model", "created": 0, "owned_by": "toolwire"}]})


COMPLETIONS: Final = web.AppKey("completions", Completions)


def create_stand_in_app() -> web.Application:
    """Return the stand-in model's aiohttp app: `/v1/chat/completions` and `/v1/models`."""
    app = web.Application()
    app[COMPLETIONS] = Completions()
    app.router.add_post("/v1/chat/completions", _chat_completions)
    app.router.add_get("/v1/models", _models)
    return app
