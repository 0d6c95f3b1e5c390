"""`ToolwireClient`: an aiohttp test client that speaks the §3 protocol for a test."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import ClientWebSocketResponse, WSMessage, WSMsgType
from aiohttp.test_utils import TestClient

from toolwire.testing.recording import EventLog


class ToolwireClient:
    """Wraps a `TestClient` on toolwire's app: dev-login tokens, sockets and whole runs.

    Every frame a socket opened here receives is recorded in `log` for `assert_isolated()`.
    """

    def __init__(self, client: TestClient[Any, Any], log: EventLog, *, timeout: float = 10.0):
        self.client = client
        self.log = log
        self.timeout = timeout
        self._tokens: dict[tuple[str, frozenset[str]], str] = {}

    async def token(self, user: str, scopes: Iterable[str] = ()) -> str:
        """Return an access token for `user` granting `scopes`, from `POST /auth/token`."""
        key = (user, frozenset(scopes))
        if key not in self._tokens:
            resp = await self.client.post(
                "/auth/token", json={"user_id": user, "scopes": sorted(key[1])})
            body = await resp.text()
            if resp.status != 200:
                raise AssertionError(
                    f"POST /auth/token answered {resp.status}: {body} (is auth.dev_login on?)"
                )
            self._tokens[key] = json.loads(body)["access_token"]
        return self._tokens[key]

    async def ws(self, user: str, *, scopes: Iterable[str] = (),
                 **kwargs: Any) -> ClientWebSocketResponse[Any]:
        """Open a WebSocket on `/ws` as `user` with `scopes`; closed when the test ends."""
        headers = {"Authorization": f"Bearer {await self.token(user, scopes)}"}
        socket: ClientWebSocketResponse[Any] = await self.client.ws_connect(
            "/ws", headers=headers, **kwargs
        )
        # receive_str/receive_json and `async for` all read through `receive`.
        socket.receive = self._recording(user, socket.receive)  # type: ignore[method-assign]
        return socket

    async def chat(self, user: str, message: str, *, scopes: Iterable[str] = (),
                   **fields: Any) -> list[dict[str, Any]]:
        """Send one `chat` as `user` on a new socket and return that run's events (wire dicts).

        The user's token grants `scopes`. `fields` go into the frame (`thread_id`,
        `request_id`); a `request_id` is made up when absent, so the run is told apart from
        other runs of the same user.
        """
        request_id = fields.setdefault("request_id", f"q_test_{secrets.token_hex(6)}")
        socket = await self.ws(user, scopes=scopes)
        try:
            await socket.send_json({"type": "chat", "message": message, **fields})
            return await self.read_run(socket, request_id=request_id)
        finally:
            await socket.close()

    async def read_run(
        self, socket: ClientWebSocketResponse[Any], *, request_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Read frames until a run ends; return its events.

        The run is the one whose `agent_started` carries `request_id`, or else the first seen.
        """
        run_id: str | None = None
        events: list[dict[str, Any]] = []
        while True:
            msg = await socket.receive(timeout=self.timeout)
            if msg.type is not WSMsgType.TEXT:
                raise AssertionError(
                    f"socket ended before the run completed ({msg.type.name}, {msg.data!r}); "
                    f"events so far: {[e.get('type') for e in events]}"
                )
            frame = json.loads(msg.data)
            if frame.get("type") == "error" and frame.get("request_id") in (None, request_id):
                raise AssertionError(f"the server answered with an error: {frame}")
            if run_id is None and frame.get("type") == "agent_started" and (
                request_id is None or frame["data"].get("request_id") == request_id
            ):
                run_id = frame["run_id"]
            if run_id is None or frame.get("run_id") != run_id:
                continue
            events.append(frame)
            if frame.get("type") == "agent_completed":
                return events

    def _recording(self, user: str, receive: Callable[..., Any]) -> Callable[..., Any]:
        # Same signature as aiohttp's `receive`, timeout parameter included.
        async def receive_and_record(timeout: float | None = None) -> WSMessage:  # noqa: ASYNC109
            msg: WSMessage = await receive(timeout)
            if msg.type is WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if isinstance(frame, dict) and "run_id" in frame:
                    self.log.record_delivery(user, "a socket", frame)
            return msg

        return receive_and_record
