"""`ModelTurn`: one assistant turn of a streamed chat completion, put together from its chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolwire.adapters.llm.errors import MalformedReplyError

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk


@dataclass(frozen=True, slots=True)
class ModelToolCall:
    """One tool call the model asked for; `arguments` is the JSON text the model wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ModelTurn:
    """What the model said in one turn: text, tool calls, or both."""

    content: str
    tool_calls: tuple[ModelToolCall, ...] = ()

    def as_message(self) -> dict[str, Any]:
        """Return the assistant message to send back in the conversation history."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments}}
                for call in self.tool_calls
            ]
        return message


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class TurnBuilder:
    """Collects the deltas of `choices[0]`: text as it comes, tool calls by their `index`."""

    __slots__ = ("_calls", "_text")

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: dict[int, _PartialCall] = {}

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take one chunk in; return the text it adds (empty when it adds none)."""
        if not chunk.choices:  # usage-only or keep-alive chunks
            return ""
        delta = chunk.choices[0].delta
        for piece in delta.tool_calls or ():
            call = self._calls.setdefault(piece.index, _PartialCall())
            call.id = call.id or (piece.id or "")
            if piece.function is not None:
                call.name = call.name or (piece.function.name or "")
                if piece.function.arguments:
                    call.arguments.append(piece.function.arguments)
        text = delta.content or ""
        if text:
            self._text.append(text)
        return text

    def build(self) -> ModelTurn:
        """Return the whole turn; raise `MalformedReplyError` when a tool call has no name."""
        calls = []
        for index in sorted(self._calls):
            partial = self._calls[index]
            if not partial.name:
                raise MalformedReplyError(f"the model streamed tool call {index} without a name")
            call_id = partial.id or f"call_{index}"
            calls.append(ModelToolCall(call_id, partial.name, "".join(partial.arguments)))
        return ModelTurn("".join(self._text), tuple(calls))
