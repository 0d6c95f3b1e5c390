"""Parse a chat-completions response body into a typed `ChatReply`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from toolwire.adapters.llm.errors import MalformedReplyError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """One tool call the model asked for; `arguments` is the JSON text the model wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The assistant message of `choices[0]`: text, tool calls, or both."""

    content: str | None
    tool_calls: tuple[ModelToolCall, ...] = ()

    def as_message(self) -> dict[str, Any]:
        """Return the assistant message to send back in the conversation history."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments}}
                for call in self.tool_calls
            ]
        return message


def parse_reply(body: Any) -> ChatReply:
    """Return the reply in a response body; raise `MalformedReplyError` when it has none."""
    choices = _field(body, "choices", list, "the response")
    if not choices:
        raise MalformedReplyError("the model API answered without choices")
    message = _field(choices[0], "message", dict, "choices[0]")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise MalformedReplyError("choices[0].message.content is not a string")
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise MalformedReplyError("choices[0].message.tool_calls is not a list")
    calls = tuple(_tool_call(raw, i) for i, raw in enumerate(raw_calls))
    if not calls and content is None:
        raise MalformedReplyError("the model answered with neither text nor tool calls")
    return ChatReply(content, calls)


def _tool_call(raw: Any, index: int) -> ModelToolCall:
    where = f"choices[0].message.tool_calls[{index}]"
    function = _field(raw, "function", dict, where)
    return ModelToolCall(
        id=_field(raw, "id", str, where),
        name=_field(function, "name", str, f"{where}.function"),
        arguments=_field(function, "arguments", str, f"{where}.function"),
    )


def _field(container: Any, key: str, kind: type[T], where: str) -> T:
    value = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(value, kind):
        raise MalformedReplyError(f"{where} has no {kind.__name__} {key!r}")
    return value
