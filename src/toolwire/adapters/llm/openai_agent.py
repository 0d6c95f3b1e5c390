"""`OpenAIAgent`: the agent port backed by a streamed chat-completions model that calls tools."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from toolwire.adapters.llm.failures import model_error
from toolwire.adapters.llm.history import history_messages
from toolwire.adapters.llm.thoughts import ThoughtStream
from toolwire.adapters.llm.turn import ModelToolCall, ModelTurn, TurnBuilder
from toolwire.adapters.metrics import Metrics
from toolwire.adapters.tracing import ModelTrace, Tracing
from toolwire.services.errors import LimitExceededError
from toolwire.services.ports import AgentRuntime
from toolwire.services.tools.arguments import parse_arguments
from toolwire.services.tools.calls import ToolOutcome
from toolwire.services.tools.spec import ToolSpec

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types import CompletionUsage

TRACING_OFF = Tracing()


class OpenAIAgent:
    """Lets the model call the run's tools, at most `max_steps` model turns per run.

    Each turn streams: its text becomes `agent_thinking` events as it arrives (coalesced by
    `think_chars` / `think_interval_s`); the tool calls of one turn run concurrently; the text
    of the turn without tool calls is the answer. Each request is traced by `tracing` and the
    tokens the model reports are counted in `metrics`.
    """

    name = "openai"

    def __init__(
        self,
        *,
        client: AsyncOpenAI,
        model: str,
        max_steps: int,
        system_prompt: str,
        think_chars: int = 400,
        think_interval_s: float = 0.5,
        tracing: Tracing = TRACING_OFF,
        metrics: Metrics | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._max_steps = max_steps
        self._system_prompt = system_prompt
        self._think_chars = think_chars
        self._think_interval_s = think_interval_s
        self._tracing = tracing
        self._metrics = metrics

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Answer `message`: ask the model, run the tools it calls, feed their results back.

        The thread's earlier turns go first, as the messages they were.
        """
        tools = [function_tool(spec) for spec in runtime.tools()]
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self._system_prompt},
            *history_messages(runtime.history),
            {"role": "user", "content": message},
        ]
        for _ in range(self._max_steps):
            turn = await self._turn(messages, tools, runtime)
            if not turn.tool_calls:
                return turn.content
            messages.append(turn.as_message())
            if not turn.content.strip():
                names = dict.fromkeys(call.name for call in turn.tool_calls)
                await runtime.think(f"Calling {', '.join(names)}.")
            outcomes = await call_concurrently(runtime, turn.tool_calls)
            messages.extend(
                {"role": "tool", "tool_call_id": call.id, "content": tool_content(outcome)}
                for call, outcome in zip(turn.tool_calls, outcomes, strict=True)
            )
        raise LimitExceededError(
            f"the model did not answer within {self._max_steps} turns (agent.max_steps)"
        )

    async def _turn(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], runtime: AgentRuntime
    ) -> ModelTurn:
        """Stream one model turn, thinking its text aloud as it comes."""
        builder = TurnBuilder()
        thoughts = ThoughtStream(
            runtime.think, max_chars=self._think_chars, interval_s=self._think_interval_s
        )
        import httpx  # loaded with the client already: this only looks them up
        import openai

        request: dict[str, Any] = {"model": self._model, "messages": messages, "stream": True,
                                   "stream_options": {"include_usage": True}}
        if tools:
            request["tools"] = tools
        failures = (openai.OpenAIError, httpx.HTTPError, json.JSONDecodeError)
        with self._tracing.model_request(self._model) as trace:
            try:  # the SDK retries opening the stream, never a stream that broke midway
                stream = await self._client.chat.completions.create(**request)
            except failures as exc:
                raise self._error(exc, retried=True) from None  # its message may quote the key
            try:
                async with stream:
                    async for chunk in stream:
                        if chunk.usage is not None:
                            self._count(trace, chunk.usage)
                        await thoughts.add(builder.add(chunk))
            except failures as exc:
                raise self._error(exc, retried=False) from None
        await thoughts.flush()
        return builder.build()

    def _count(self, trace: ModelTrace, usage: CompletionUsage) -> None:
        """Record the tokens of one request in its trace and the metrics."""
        trace.usage(usage.prompt_tokens, usage.completion_tokens)
        if self._metrics is not None:
            self._metrics.model_usage(usage.prompt_tokens, usage.completion_tokens)

    def _error(self, exc: Exception, *, retried: bool) -> Exception:
        client = self._client
        return model_error(
            exc, secret=client.api_key or None, base_url=str(client.base_url),
            timeout_s=_seconds(client.timeout), retries=client.max_retries if retried else 0,
        )


async def call_concurrently(
    runtime: AgentRuntime, calls: Sequence[ModelToolCall]
) -> list[ToolOutcome]:
    """Run the tool calls of one turn at once; return their outcomes in the calls' order.

    A call past `runs.max_tool_calls` is raised only after the others ended, so every
    `tool_executing` of the turn has its `tool_completed` before the run ends.
    """
    async def one(call: ModelToolCall) -> ToolOutcome | LimitExceededError:
        try:
            return await runtime.call_tool(call.name, parse_arguments(call.arguments))
        except LimitExceededError as exc:
            return exc

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(call)) for call in calls]
    except BaseExceptionGroup as failed:  # the first real failure, not a group of one
        raise failed.exceptions[0] from None
    results = [task.result() for task in tasks]
    for result in results:
        if isinstance(result, LimitExceededError):
            raise result
    return [result for result in results if isinstance(result, ToolOutcome)]


def function_tool(spec: ToolSpec) -> dict[str, Any]:
    """Return `spec` as a chat-completions `tools` entry."""
    return {"type": "function", "function": {
        "name": spec.name, "description": spec.description, "parameters": spec.json_schema(),
    }}


def tool_content(outcome: ToolOutcome) -> str:
    """Return a tool outcome as the JSON text of a `tool` message."""
    body: dict[str, Any] = {"status": outcome.status}
    if outcome.ok:
        body["result"] = outcome.result
    elif outcome.error is not None:
        body["error"] = outcome.error.to_dict()
    return json.dumps(body, ensure_ascii=False)


def _seconds(timeout: object) -> float:
    """Return the read timeout the client was configured with, in seconds."""
    read = getattr(timeout, "read", timeout)  # an httpx.Timeout, or a number
    return float(read) if isinstance(read, int | float) else 0.0
