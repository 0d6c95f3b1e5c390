"""Model backends behind the agent port: the official `openai` SDK, streamed, with tool calls."""

from toolwire.adapters.llm.client import openai_client
from toolwire.adapters.llm.errors import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
)
from toolwire.adapters.llm.openai_agent import OpenAIAgent
from toolwire.adapters.llm.turn import ModelToolCall, ModelTurn

__all__ = [
    "MalformedReplyError",
    "ModelAPIError",
    "ModelHTTPError",
    "ModelTimeoutError",
    "ModelToolCall",
    "ModelTurn",
    "OpenAIAgent",
    "openai_client",
]
