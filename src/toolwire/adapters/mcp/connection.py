"""`McpConnection`: one MCP server's client session, opened on demand and re-opened when lost.

Only the public API of the `mcp` SDK is used: the session talks to the transport through two
relays of ours, one per direction. The incoming one notices a server that went away; the
outgoing one learns the JSON-RPC id of each tool call (marked in its `_meta`), so a cancelled
call can be cancelled on the server too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import ClientSession, McpError, StdioServerParameters, stdio_client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.message import SessionMessage

from toolwire.adapters.mcp.errors import McpCallError, McpUnavailableError, describe_failure
from toolwire.adapters.mcp.stderr import server_stderr
from toolwire.adapters.mcp.trace_headers import trace_headers
from toolwire.adapters.tracing import trace_carrier
from toolwire.config import McpServerSettings

log = logging.getLogger(__name__)

SESSION_TERMINATED: Final = 32600
"""What the streamable-HTTP client reports when the server answers 404 to the session id."""
MAX_TOOL_PAGES: Final = 100
CLOSE_WAIT_S: Final = 5.0
CANCEL_NOTICE_S: Final = 1.0
CALL_MARK: Final = "toolwire/call"
"""The `_meta` key that tells the outgoing relay which tool call a request carries."""

Streams = tuple[
    MemoryObjectReceiveStream[SessionMessage | Exception],
    MemoryObjectSendStream[SessionMessage],
]


@dataclass(slots=True, eq=False)
class _Live:
    """An open session, the event that ends it and the task that holds its transport.

    `sent` maps the mark of each tool call in flight to its JSON-RPC request id.
    """

    session: ClientSession
    stop: asyncio.Event
    task: asyncio.Task[None]
    sent: dict[str, types.RequestId] = field(default_factory=dict)
    probing: bool = False


class McpConnection:
    """The client side of one server in `tools.mcp_servers`, shared by every run.

    The transport lives in a task of its own (the SDK's transports must be entered and left
    in one task). A call that finds the session gone re-opens it once; a call the server may
    have received before the connection dropped fails instead (it is not safe to repeat).
    A call that is cancelled or times out is followed by a ping: a server that does not
    answer it within `connect_timeout_s` has stopped answering (a tool blocks it) and is
    restarted like one that exited.
    """

    __slots__ = ("_closed", "_connect_timeout_s", "_failure", "_live", "_lock", "_retired",
                 "server")

    def __init__(self, server: McpServerSettings, *, connect_timeout_s: float) -> None:
        self.server = server
        self._connect_timeout_s = connect_timeout_s
        self._live: _Live | None = None
        self._lock = asyncio.Lock()
        self._retired: set[asyncio.Task[None]] = set()
        self._failure = ""
        self._closed = False

    @property
    def name(self) -> str:
        """Return the server's name from the settings."""
        return self.server.name

    @property
    def connected(self) -> bool:
        """Return True while a session is open and its server has not gone away."""
        return self._live is not None and not self._live.stop.is_set()

    async def list_tools(self) -> list[types.Tool]:
        """Connect if needed and return every tool the server lists (all pages)."""
        session = (await self._open()).session
        tools: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
            try:
                async with asyncio.timeout(self._connect_timeout_s):
                    page = await session.list_tools(params=params)
            except (TimeoutError, McpError) as exc:
                raise self._unavailable(describe_failure(exc)) from None
            tools.extend(page.tools)
            cursor = page.nextCursor
            if not cursor:
                break
        return tools

    async def call(self, tool: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call `tool` (its name on the server); re-open a lost session once when that is safe."""
        for attempt in (1, 2):
            live = await self._open()
            try:
                return await self._call_on(live, tool, arguments)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                pass  # the request never left: the session was already gone
            except McpError as exc:
                if exc.error.code == types.CONNECTION_CLOSED:
                    self._retire(live.session)
                    raise self._lost() from None
                if exc.error.code != SESSION_TERMINATED:
                    raise McpCallError(
                        f"MCP server {self.name!r} refused the call: {exc.error.message}"
                    ) from None
                # a restarted HTTP server does not know the old session: safe to repeat
            self._retire(live.session)
            log.info("MCP server %s: session lost (attempt %d); re-opening it", self.name, attempt)
        raise self._unavailable("the session was lost twice in a row")

    async def _call_on(
        self, live: _Live, tool: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        """Call on `live`; fail if its transport dies first (the SDK may leave the call hung).

        A call cancelled here (a timeout, a cancelled run) is cancelled on the server too, and
        the server is asked whether it still answers.
        """
        mark = uuid.uuid4().hex
        # The call's trace context travels in the request's `_meta` (MCP semconv), beside the
        # mark that names the call in a cancel notice.
        meta = {**(trace_carrier() or {}), CALL_MARK: mark}
        call = asyncio.ensure_future(live.session.call_tool(tool, arguments, meta=meta))
        ended = asyncio.ensure_future(live.stop.wait())
        try:
            await asyncio.wait((call, ended), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            request_id = live.sent.get(mark)
            if request_id is not None and not call.done():
                await self._cancel_on_server(live, request_id)
                await self._check_health(live)
            raise
        finally:
            live.sent.pop(mark, None)
            ended.cancel()
            if not call.done():
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
        if call.cancelled():
            raise self._lost()
        return call.result()

    async def _cancel_on_server(self, live: _Live, request_id: types.RequestId) -> None:
        """Tell the server to stop working on `request_id` (best effort, bounded)."""
        notice = types.ClientNotification(types.CancelledNotification(
            params=types.CancelledNotificationParams(
                requestId=request_id, reason="the tool call was cancelled or timed out")))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CANCEL_NOTICE_S):
                await live.session.send_notification(notice)

    async def _check_health(self, live: _Live) -> None:
        """Ping the server; stop its session when it does not answer in time (one at a time).

        Runs in the cancelled call's task, which nobody waits for any more.
        """
        if live.probing or live.stop.is_set():
            return
        live.probing = True
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                await live.session.send_ping()
        except TimeoutError:
            if not live.stop.is_set():
                self._failure = (f"no answer to a ping within {self._connect_timeout_s:g} s "
                                 "(tools.mcp_connect_timeout_s)")
                log.warning("MCP server %s: stopped answering after a call was cancelled or "
                            "timed out (%s); it is restarted at the next call",
                            self.name, self._failure)
                self._retire(live.session)
        except Exception as exc:  # it answered with an error, or the session is already gone
            log.debug("MCP server %s: ping: %s", self.name, describe_failure(exc))
        finally:
            live.probing = False

    async def aclose(self) -> None:
        """Close the session and stop the server's transport (a stdio server is terminated)."""
        self._closed = True
        if self._live is not None:
            self._retire(self._live.session)
        tasks = list(self._retired)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _open(self) -> _Live:
        live = self._live
        if live is not None and not live.stop.is_set():
            return live
        async with self._lock:
            if self._closed:
                raise self._unavailable("the connection is closed (shutting down)")
            live = self._live
            if live is None or live.stop.is_set():
                if live is not None:
                    self._retire(live.session)
                self._live = live = await self._connect()
            return live

    async def _connect(self) -> _Live:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[ClientSession] = loop.create_future()
        stop = asyncio.Event()
        sent: dict[str, types.RequestId] = {}
        task = loop.create_task(self._hold(ready, stop, sent), name=f"mcp server {self.name}")
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                session = await asyncio.shield(ready)
        except BaseException as exc:
            stop.set()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if ready.done() and not ready.cancelled():
                ready.exception()  # a failure after we stopped waiting: seen, not logged
            if isinstance(exc, TimeoutError):
                raise self._unavailable(
                    f"no answer within {self._connect_timeout_s:g} s "
                    "(tools.mcp_connect_timeout_s)") from None
            if isinstance(exc, Exception):
                raise self._unavailable(describe_failure(exc)) from None
            raise
        log.info("MCP server %s: connected (%s)", self.name, self.server.describe())
        return _Live(session, stop, task, sent)

    async def _hold(
        self, ready: asyncio.Future[ClientSession], stop: asyncio.Event,
        sent: dict[str, types.RequestId],
    ) -> None:
        """Open transport and session, hand the session over, keep both open until `stop`.

        Messages from the server pass through a relay, so the end of the server's stream (a
        stdio server that exited) ends this task and the next call opens a new session;
        messages to it pass through another, which notes the id of each tool call in `sent`.
        """
        try:
            async with self._transport() as (read, write):
                relay_in, relay_out = anyio.create_memory_object_stream[
                    SessionMessage | Exception](0)
                out_in, out_out = anyio.create_memory_object_stream[SessionMessage](0)
                with read, relay_in, relay_out, out_in, out_out:  # closed however relays end
                    async with (anyio.create_task_group() as group,
                                ClientSession(relay_out, out_in) as session):
                        group.start_soon(self._relay, read, relay_in, stop)
                        group.start_soon(_note_calls, out_out, write, sent)
                        await session.initialize()
                        ready.set_result(session)
                        await stop.wait()
                        group.cancel_scope.cancel()
        except Exception as exc:  # ExceptionGroups of the SDK's task groups, OSError, …
            self._failure = describe_failure(exc)
            if not ready.done():
                ready.set_exception(exc)
            elif not stop.is_set():
                log.warning("MCP server %s: connection lost: %s", self.name, self._failure)
        finally:
            stop.set()
            if not ready.done():
                ready.cancel()

    async def _relay(
        self,
        source: MemoryObjectReceiveStream[SessionMessage | Exception],
        sink: MemoryObjectSendStream[SessionMessage | Exception],
        stop: asyncio.Event,
    ) -> None:
        async with sink:
            async for message in source:
                await sink.send(message)
        if not stop.is_set():
            self._failure = "the server closed the connection"
            log.warning("MCP server %s: %s", self.name, self._failure)
            stop.set()

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[Streams]:
        server = self.server
        if server.command is not None:
            env = {name: value.get_secret_value() for name, value in server.env.items()}
            params = StdioServerParameters(
                command=server.command[0], args=server.command[1:], env=env or None)
            async with (server_stderr(self.name, env.values()) as errlog,
                        stdio_client(params, errlog=errlog) as (read, write)):
                yield read, write
            return
        headers = {name: value.get_secret_value() for name, value in server.headers.items()}
        # No read timeout: a tool call may take long, and the executor times calls out.
        timeout = httpx.Timeout(self._connect_timeout_s, read=None)
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(
                httpx.AsyncClient(headers=headers, timeout=timeout))
            client.event_hooks["request"].append(trace_headers)
            read, write, _ = await stack.enter_async_context(
                streamable_http_client(str(server.url), http_client=client))
            yield read, write

    def _retire(self, session: ClientSession) -> None:
        """Stop the session's transport in the background; the next call opens a new one."""
        live = self._live
        if live is None or live.session is not session:
            return
        self._live = None
        live.stop.set()
        self._retired.add(live.task)
        live.task.add_done_callback(self._retired.discard)

    def _lost(self) -> McpCallError:
        because = f" ({self._failure})" if self._failure else ""
        return McpCallError(
            f"the connection to MCP server {self.name!r} was lost during the call{because}; "
            "it is re-opened at the next call"
        )

    def _unavailable(self, reason: str) -> McpUnavailableError:
        return McpUnavailableError(
            f"MCP server {self.name!r} ({self.server.describe()}) is unavailable: {reason}"
        )


async def _note_calls(
    source: MemoryObjectReceiveStream[SessionMessage],
    sink: MemoryObjectSendStream[SessionMessage],
    sent: dict[str, types.RequestId],
) -> None:
    """Pass the session's messages to the transport; note the request id of each tool call."""
    async for message in source:
        request = message.message.root
        if isinstance(request, types.JSONRPCRequest) and request.method == "tools/call":
            meta = (request.params or {}).get("_meta")
            mark = meta.get(CALL_MARK) if isinstance(meta, dict) else None
            if isinstance(mark, str):
                sent[mark] = request.id
        await sink.send(message)
