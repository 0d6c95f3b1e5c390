"""A small WebSocket client for `toolwire chat`: dev token, one socket, readable events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

import aiohttp

from toolwire.services.context import new_id

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNREACHABLE: Final = 2


class ChatUnavailableError(Exception):
    """The server cannot be reached or refused the client."""


class ChatClient:
    """One authenticated socket to a toolwire server; runs chats one at a time."""

    def __init__(self, url: str, user_id: str, show: Callable[[str], None], *,
                 as_json: bool = False) -> None:
        self._url = url.rstrip("/")
        self._user_id = user_id
        self._show = show
        self._as_json = as_json
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> ChatClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_connect=5))
        try:
            token = await self._token(self._session)
            self._ws = await self._session.ws_connect(
                f"{self._url}/ws", headers={"Authorization": f"Bearer {token}"})
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._session.close()
            raise ChatUnavailableError(f"cannot connect to {self._url}: {exc}") from None
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _token(self, session: aiohttp.ClientSession) -> str:
        async with session.post(f"{self._url}/auth/token", json={"user_id": self._user_id}) as r:
            if r.status == 404:
                raise ChatUnavailableError(
                    f"{self._url} does not issue development tokens (auth.dev_login is off)")
            r.raise_for_status()
            body = await r.json()
        return str(body["access_token"])

    async def chat(self, message: str) -> int:
        """Send `message`, print its run until `agent_completed`; return the exit code."""
        assert self._ws is not None, "use ChatClient as an async context manager"
        request_id = new_id("q")
        await self._ws.send_json({"type": "chat", "message": message, "request_id": request_id})
        run_id: str | None = None
        async for msg in self._ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frame: dict[str, Any] = json.loads(msg.data)
            if frame.get("type") == "error":
                self._print(frame)
                return EXIT_FAILED
            if run_id is None and frame.get("type") == "agent_started" \
                    and frame["data"].get("request_id") == request_id:
                run_id = frame["run_id"]
            if frame.get("run_id") != run_id:
                continue
            self._print(frame)
            if frame["type"] == "agent_completed":
                return EXIT_OK if frame["data"]["status"] == "ok" else EXIT_FAILED
        self._show(f"connection closed ({self._ws.close_code})")
        return EXIT_FAILED

    def _print(self, frame: dict[str, Any]) -> None:
        if self._as_json:
            self._show(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
        else:
            self._show(render(frame))


def render(frame: dict[str, Any]) -> str:
    """Return one server frame as a readable line."""
    kind = frame.get("type")
    data: dict[str, Any] = frame.get("data") or {}
    if kind == "agent_started":
        return f"[{frame['run_id']}] {data.get('agent')} started"
    if kind == "agent_thinking":
        return f"  thinking: {data.get('text')}"
    if kind == "tool_executing":
        return f"  -> {data.get('tool')} {_compact(data.get('args'))}"
    if kind == "tool_completed":
        status = data.get("status")
        detail = _compact(data.get("result")) if status == "ok" else _error(data)
        return f"  <- {data.get('tool')} {status}: {detail} ({data.get('duration_ms')} ms)"
    if kind == "agent_completed":
        if data.get("status") == "ok":
            return f"answer: {data.get('answer')}"
        return f"run {data.get('status')}: {_error(data)}"
    if kind == "error":
        return f"error [{frame.get('code')}]: {frame.get('message')}"
    return _compact(frame)


def _error(data: dict[str, Any]) -> str:
    error = data.get("error") or {}
    return f"{error.get('message')} ({error.get('type')})"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
