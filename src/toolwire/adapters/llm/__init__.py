"""Model backends behind the agent port: an OpenAI-compatible chat-completions client."""

from toolwire.adapters.llm.errors import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
)
from toolwire.adapters.llm.openai_agent import OpenAIAgent
from toolwire.adapters.llm.openai_client import OpenAIChatClient
from toolwire.adapters.llm.replies import ChatReply, ModelToolCall

__all__ = [
    "ChatReply",
    "MalformedReplyError",
    "ModelAPIError",
    "ModelHTTPError",
    "ModelTimeoutError",
    "ModelToolCall",
    "OpenAIAgent",
    "OpenAIChatClient",
]
