"""What the SDK raises becomes a `ModelAPIError` that says what happened and hides the key."""

from __future__ import annotations

import httpx
import openai
import pytest

from toolwire.adapters.llm import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
)
from toolwire.adapters.llm.failures import model_error

KEY = "sk-unit-0123456789"
REQUEST = httpx.Request("POST", "http://127.0.0.1:1/v1/chat/completions")


def status_error(status: int, body: object) -> openai.APIStatusError:
    response = httpx.Response(status, request=REQUEST)
    return openai.APIStatusError(f"Error code: {status} - {body}", response=response, body=body)


def error(exc: Exception, retries: int = 2) -> ModelAPIError:
    return model_error(exc, secret=KEY, base_url="http://127.0.0.1:1/v1", timeout_s=5,
                       retries=retries)


def test_an_http_error_names_status_and_the_apis_message_without_the_key() -> None:
    failure = error(status_error(401, {"message": f"Incorrect API key provided: {KEY}."}))
    assert isinstance(failure, ModelHTTPError) and failure.status == 401
    assert str(failure) == "the model API answered HTTP 401: Incorrect API key provided: ***."


def test_a_long_or_missing_error_message_is_shortened_or_replaced() -> None:
    long = error(status_error(502, "upstream exploded " * 50))
    assert isinstance(long, ModelHTTPError) and len(long.detail) <= 200
    empty = error(status_error(503, None))
    assert isinstance(empty, ModelHTTPError) and empty.detail == "Service Unavailable"


@pytest.mark.parametrize("exc", [openai.APITimeoutError(REQUEST), httpx.ReadTimeout("slow")])
def test_timeouts_name_the_setting_and_the_retries(exc: Exception) -> None:
    failure = error(exc)
    assert isinstance(failure, ModelTimeoutError)
    assert "5 s (agent.request_timeout_s), after 2 retries (agent.max_retries)" in str(failure)


def test_a_connection_error_names_the_url_and_the_cause() -> None:
    cause = httpx.ConnectError(f"refused for {KEY}")
    exc = openai.APIConnectionError(request=REQUEST)
    exc.__cause__ = cause
    failure = error(exc, retries=0)
    assert str(failure) == (
        "could not reach the model API at http://127.0.0.1:1/v1: refused for ***")


def test_an_error_event_in_the_stream_and_garbage_are_told_apart() -> None:
    streamed = error(openai.APIError("x", REQUEST, body={"message": "overloaded"}))
    assert str(streamed) == "the model API reported an error while streaming: overloaded"
    garbage = error(ValueError("Expecting value"))
    assert isinstance(garbage, MalformedReplyError)
