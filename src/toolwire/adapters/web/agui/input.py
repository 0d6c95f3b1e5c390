"""Read an AG-UI `RunAgentInput` as a toolwire chat: the last user message, thread and request."""

from __future__ import annotations

from typing import Any, Final

from ag_ui.core import RunAgentInput, TextPart, UserMessage
from pydantic import ValidationError

from toolwire.adapters.web.agui.history import turns_of_messages
from toolwire.adapters.web.errors import INVALID_MESSAGE, WireError
from toolwire.adapters.web.ws.protocol import ChatFrame
from toolwire.services.threads.models import Turn
from toolwire.services.validation import describe_validation_error

MAX_ID_CHARS: Final = 200


class AguiChat(ChatFrame):
    """A chat from a `RunAgentInput`: `history` holds the client's earlier messages as turns,
    or is None when it sent only the new message (the stored thread is the history then)."""

    history: tuple[Turn, ...] | None = None


def chat_of_input(raw: Any) -> AguiChat:
    """Return the chat `raw` asks for; raise `WireError` (`invalid_message`) saying why not.

    `threadId` becomes the run's thread and `runId` its `request_id`, so sending the same
    input again replays that run rather than starting a second one. The last user message
    is the chat's message; the messages before it, when there are any, are its history.
    `tools`, `context`, `state` and `forwardedProps` are not used.
    """
    if not isinstance(raw, dict):
        raise WireError(INVALID_MESSAGE, "a RunAgentInput must be a JSON object")
    try:
        run_input = RunAgentInput.model_validate(raw)
    except ValidationError as exc:
        raise WireError(INVALID_MESSAGE, "invalid RunAgentInput: "
                        + describe_validation_error(exc)) from None
    message = _last_user_text(run_input)
    last = max(i for i, m in enumerate(run_input.messages) if isinstance(m, UserMessage))
    earlier = run_input.messages[:last]
    return AguiChat(
        type="chat",
        message=message,
        thread_id=_ident("threadId", run_input.thread_id),
        request_id=_ident("runId", run_input.run_id),
        history=turns_of_messages(earlier) if earlier else None,
    )


def _ident(name: str, value: str) -> str:
    if not 0 < len(value) <= MAX_ID_CHARS:
        raise WireError(INVALID_MESSAGE, f"{name} must be 1 to {MAX_ID_CHARS} characters")
    return value


def _last_user_text(run_input: RunAgentInput) -> str:
    users = [m for m in run_input.messages if isinstance(m, UserMessage)]
    if not users:
        raise WireError(INVALID_MESSAGE, "messages holds no user message to answer")
    content = users[-1].content
    if isinstance(content, str):
        text = content
    else:
        kinds = sorted({part.type for part in content if not isinstance(part, TextPart)})
        if kinds:
            raise WireError(INVALID_MESSAGE, "only text content is supported, not "
                            + ", ".join(kinds))
        text = "\n".join(part.text for part in content if isinstance(part, TextPart))
    if not text.strip():
        raise WireError(INVALID_MESSAGE, "the last user message is empty")
    return text
