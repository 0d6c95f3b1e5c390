"""`OpenAIAgent`: the agent port backed by a chat-completions model that calls toolwire's tools."""

from __future__ import annotations

import json
from typing import Any

from toolwire.adapters.llm.openai_client import OpenAIChatClient
from toolwire.adapters.llm.replies import ChatReply
from toolwire.services.errors import LimitExceededError
from toolwire.services.ports import AgentRuntime
from toolwire.services.tools.calls import ToolOutcome, UnparsedArguments


class OpenAIAgent:
    """Lets the model call the run's tools, at most `max_steps` model round-trips per run."""

    name = "openai"

    def __init__(
        self, *, client: OpenAIChatClient, model: str, max_steps: int, system_prompt: str
    ) -> None:
        self._client = client
        self._model = model
        self._max_steps = max_steps
        self._system_prompt = system_prompt

    async def run(self, message: str, runtime: AgentRuntime) -> str:
        """Answer `message`: ask the model, run the tools it calls, feed their results back."""
        tools = runtime.tools()
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": self._system_prompt},
            {"role": "user", "content": message},
        ]
        for _ in range(self._max_steps):
            reply = await self._client.complete(model=self._model, messages=messages, tools=tools)
            if not reply.tool_calls:
                await runtime.think("Writing the answer.")
                return reply.content or ""
            messages.append(reply.as_message())
            await runtime.think(_batch_thought(reply))
            for call in reply.tool_calls:
                outcome = await runtime.call_tool(call.name, parse_arguments(call.arguments))
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": tool_content(outcome)}
                )
        raise LimitExceededError(
            f"the model did not answer within {self._max_steps} round-trips (agent.max_steps)"
        )


def parse_arguments(text: str) -> dict[str, Any]:
    """Return the model's JSON arguments, or `UnparsedArguments` saying why they are unusable."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return UnparsedArguments(f"the model's arguments are not JSON: {exc.msg}")
    if not isinstance(value, dict):
        return UnparsedArguments("the model's arguments are not a JSON object")
    return value


def tool_content(outcome: ToolOutcome) -> str:
    """Return a tool outcome as the JSON text of a `tool` message."""
    body: dict[str, Any] = {"status": outcome.status}
    if outcome.ok:
        body["result"] = outcome.result
    elif outcome.error is not None:
        body["error"] = outcome.error.to_dict()
    return json.dumps(body, ensure_ascii=False)


def _batch_thought(reply: ChatReply) -> str:
    if reply.content and reply.content.strip():
        return reply.content.strip()
    names = dict.fromkeys(call.name for call in reply.tool_calls)
    return f"Calling {', '.join(names)}."
