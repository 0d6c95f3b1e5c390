"""Errors of the model API; their messages reach users, so they never carry the API key."""

from __future__ import annotations

from typing import ClassVar

from toolwire.services.errors import ToolwireError


class ModelAPIError(ToolwireError):
    """The model API could not be reached or gave no usable answer.

    An expected condition, not a bug: logged as one line, without a traceback.
    """

    log_traceback: ClassVar[bool] = False


class ModelHTTPError(ModelAPIError):
    """The model API answered with an HTTP error status (after the SDK's retries)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"the model API answered HTTP {status}: {detail}")
        self.status = status
        self.detail = detail


class ModelTimeoutError(ModelAPIError):
    """The model API did not answer within the request timeout (after the SDK's retries)."""


class MalformedReplyError(ModelAPIError):
    """The model API answered with something that is not a usable chat completion."""
