"""`OpenAIChatClient`: `POST {base_url}/chat/completions` with tool calling, over one session."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import aiohttp
from pydantic import SecretStr

from toolwire.adapters.llm.errors import (
    MalformedReplyError,
    ModelAPIError,
    ModelHTTPError,
    ModelTimeoutError,
)
from toolwire.adapters.llm.replies import ChatReply, parse_reply
from toolwire.services.tools.spec import ToolSpec

MAX_DETAIL_CHARS: Final = 200
"""How much of an API error message goes into the exception (and so to the user)."""


class OpenAIChatClient:
    """An async client of an OpenAI-compatible chat-completions API; close it with `aclose()`."""

    __slots__ = ("_api_key", "_session", "_timeout_s", "url")

    def __init__(self, *, base_url: str, api_key: SecretStr | None, timeout_s: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def complete(
        self,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[ToolSpec] = (),
    ) -> ChatReply:
        """Send the conversation (and the tools the model may call); return the model's reply."""
        payload: dict[str, Any] = {"model": model, "messages": list(messages)}
        if tools:
            payload["tools"] = [function_tool(spec) for spec in tools]
        try:
            async with self._open_session().post(
                self.url, json=payload, headers=self._headers()
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError as exc:  # before ClientError: ServerTimeoutError is both
            raise ModelTimeoutError(
                f"the model API did not answer within {self._timeout_s:g} s "
                "(agent.request_timeout_s)"
            ) from exc
        except aiohttp.ClientError as exc:
            raise ModelAPIError(f"could not reach the model API at {self.url}: {exc}") from exc
        if not 200 <= status < 300:
            raise ModelHTTPError(status, self._error_detail(body))
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise MalformedReplyError("the model API answered with a non-JSON body") from exc
        return parse_reply(data)

    async def aclose(self) -> None:
        """Close the HTTP session; a later request opens a new one."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self._timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            return {}
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}

    def _error_detail(self, body: bytes) -> str:
        """Return the API's own error message, with the key blanked out, kept short."""
        text = body.decode("utf-8", errors="replace")
        try:
            error = json.loads(text).get("error")
        except (ValueError, AttributeError):
            error = None
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(error, str):
            text = error
        if self._api_key is not None and self._api_key.get_secret_value():
            text = text.replace(self._api_key.get_secret_value(), "***")
        text = " ".join(text.split()) or "no error message"
        return text[:MAX_DETAIL_CHARS]


def function_tool(spec: ToolSpec) -> dict[str, Any]:
    """Return `spec` as a chat-completions `tools` entry."""
    return {"type": "function", "function": {
        "name": spec.name, "description": spec.description, "parameters": spec.json_schema(),
    }}
