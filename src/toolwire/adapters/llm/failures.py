"""Turn what the `openai` SDK (and httpx under it) raises into `ModelAPIError`s without secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from toolwire.adapters.llm.errors import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
)
from toolwire.redaction import redact_urls, safe_url

MAX_DETAIL_CHARS: Final = 200
"""How much of an API error message goes into the exception (and so to the user)."""


def redact(text: str, secret: str | None) -> str:
    """Return `text` with `secret` blanked out, URLs redacted and whitespace folded."""
    if secret:
        text = text.replace(secret, "***")
    return " ".join(redact_urls(text).split())


def model_error(
    exc: Exception, *, secret: str | None, base_url: str, timeout_s: float, retries: int
) -> ModelAPIError:
    """Return the `ModelAPIError` that says what `exc` means for the run.

    `retries` is how many times the SDK retried the request before giving up: its
    `max_retries` for a failure to open the stream, 0 for a stream that broke midway.
    """
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
        return ModelTimeoutError(
            f"the model API did not answer within {timeout_s:g} s (agent.request_timeout_s)"
            + _after(retries)
        )
    if isinstance(exc, openai.APIStatusError):
        detail = _api_message(exc.body) or exc.response.reason_phrase or "no error message"
        return ModelHTTPError(exc.status_code, redact(detail, secret)[:MAX_DETAIL_CHARS])
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        cause = exc.__cause__ if isinstance(exc, openai.APIConnectionError) else exc
        reason = redact(str(cause or exc), secret)[:MAX_DETAIL_CHARS]
        return ModelAPIError(f"could not reach the model API at {safe_url(base_url)}: {reason}"
                             + _after(retries))
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        detail = _api_message(exc.body) or exc.message
        return ModelAPIError("the model API reported an error while streaming: "
                             + redact(detail, secret)[:MAX_DETAIL_CHARS])
    return MalformedReplyError(
        "the model API answered with something that is not a chat-completion stream "
        f"({type(exc).__name__})"
    )


def _api_message(body: object) -> str:
    """Return the API's own error message from an error body (`{"message": …}` or a string)."""
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str):
            return message
        nested = body.get("error")
        return _api_message(nested) if nested is not None else ""
    return body if isinstance(body, str) else ""


def _after(retries: int) -> str:
    if not retries:
        return ""
    return f", after {retries} {'retry' if retries == 1 else 'retries'} (agent.max_retries)"
