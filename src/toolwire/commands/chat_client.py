"""A small WebSocket client for `toolwire chat`: a token, one socket, readable events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from toolwire.services.context import new_id

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_UNREACHABLE: Final = 2


class ChatUnavailableError(Exception):
    """The server cannot be reached or refused the client."""


_REFUSALS: Final = {
    401: "the server refused the access token (HTTP 401): it is invalid or expired",
    403: "the server refused this client's Origin (HTTP 403, auth.allowed_origins)",
    429: "this user has too many open sockets (HTTP 429, limits.sockets_per_user)",
    503: "the server is shutting down (HTTP 503); try again shortly",
}


def server_urls(url: str) -> tuple[str, str]:
    """Return `(http base, WebSocket URL)` for a server URL, with or without a path prefix.

    `http://host:8080`, `ws://host:8080/agent`, `https://host/agent/ws` are all accepted.
    """
    parts = urlsplit(url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in {"http", "https"} or not parts.netloc:
        raise ChatUnavailableError(f"{url!r} is not an http(s):// or ws(s):// URL")
    path = parts.path.rstrip("/").removesuffix("/ws")
    base = urlunsplit((scheme, parts.netloc, path, "", ""))
    socket_scheme = {"http": "ws", "https": "wss"}[scheme]
    socket = urlunsplit((socket_scheme, parts.netloc, f"{path}/ws", "", ""))
    return base, socket


class ChatClient:
    """One authenticated socket to a toolwire server; runs chats one at a time."""

    def __init__(self, url: str, user_id: str, show: Callable[[str], None], *,
                 token: str | None = None, as_json: bool = False) -> None:
        self._url, self._ws_url = server_urls(url)
        self._user_id = user_id
        self._token = token
        self._show = show
        self._as_json = as_json
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> ChatClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_connect=5))
        try:
            token = self._token = self._token or await self._dev_token(self._session)
            self._ws = await self._session.ws_connect(
                self._ws_url, headers={"Authorization": f"Bearer {token}"})
        except aiohttp.WSServerHandshakeError as exc:
            await self._session.close()
            raise ChatUnavailableError(self._refusal(exc.status)) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self._session.close()
            reason = str(exc) or type(exc).__name__
            raise ChatUnavailableError(f"cannot connect to {self._url}: {reason}") from None
        except BaseException:
            await self._session.close()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _dev_token(self, session: aiohttp.ClientSession) -> str:
        """Get a development token for the user from `POST /auth/token`."""
        async with session.post(f"{self._url}/auth/token", json={"user_id": self._user_id}) as r:
            if r.status == 404:
                raise ChatUnavailableError(await self._why_no_token(session))
            if r.status != 200:
                raise ChatUnavailableError(
                    f"POST {self._url}/auth/token answered HTTP {r.status} {r.reason}")
            try:
                body = await r.json()
                return str(body["access_token"])
            except (ValueError, TypeError, KeyError, aiohttp.ContentTypeError):
                raise ChatUnavailableError(
                    f"{self._url}/auth/token answered without a token: "
                    "is this the URL of a toolwire server?") from None

    async def _why_no_token(self, session: aiohttp.ClientSession) -> str:
        """Tell a server without dev login from a URL where no toolwire server is."""
        async with session.get(f"{self._url}/healthz") as health:
            if health.status == 200:
                return (f"{self._url} does not issue development tokens (auth.dev_login is "
                        "off there): pass --token or set TOOLWIRE_TOKEN")
        return (f"no toolwire server at {self._url} (POST /auth/token and GET /healthz answer "
                "HTTP 404): check the URL and its path prefix, e.g. http://host:8000/agent")

    def _refusal(self, status: int) -> str:
        if status == 404:
            return (f"no toolwire WebSocket at {self._ws_url} (HTTP 404): check the URL and "
                    "its path prefix")
        return _REFUSALS.get(status, f"{self._ws_url} refused the WebSocket (HTTP {status})")

    async def threads(self, limit: int = 50) -> list[dict[str, Any]]:
        """Return the user's threads, most recently active first (`GET /threads`)."""
        assert self._session is not None, "use ChatClient as an async context manager"
        async with self._session.get(
                f"{self._url}/threads", params={"limit": str(limit)},
                headers={"Authorization": f"Bearer {self._token}"}) as response:
            if response.status != 200:
                raise ChatUnavailableError(
                    f"GET {self._url}/threads answered HTTP {response.status} {response.reason}")
            body: dict[str, Any] = await response.json()
        return list(body["threads"])

    async def chat(self, message: str, thread_id: str | None = None) -> int:
        """Send `message` (on `thread_id`, else a new thread), print its run until
        `agent_completed`; return the exit code."""
        assert self._ws is not None, "use ChatClient as an async context manager"
        request_id = new_id("q")
        sent: dict[str, Any] = {"type": "chat", "message": message, "request_id": request_id}
        if thread_id is not None:
            sent["thread_id"] = thread_id
        await self._ws.send_json(sent)
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


def render_thread(thread: dict[str, Any]) -> str:
    """Return one entry of `GET /threads` as a readable line."""
    turns = thread.get("turns")
    return (f"{thread.get('thread_id')}  {thread.get('updated_at')}  "
            f"{turns} turn{'' if turns == 1 else 's'}  {thread.get('title')}")


def _error(data: dict[str, Any]) -> str:
    error = data.get("error") or {}
    return f"{error.get('message')} ({error.get('type')})"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
