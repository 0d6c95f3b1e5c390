"""`ToolExecutor`: runs one tool call and reports it as `tool_executing`/`tool_completed`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError, ToolError
from toolwire.services.events import ErrorInfo, ToolCompleted, ToolExecuting, ToolStatus
from toolwire.services.limits import ScopeSettings
from toolwire.services.ports import EventSink
from toolwire.services.tools.calls import ToolCall, UnparsedArguments
from toolwire.services.tools.permissions import ToolPermissions
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec, json_result
from toolwire.services.validation import describe_validation_error

log = logging.getLogger(__name__)

CLOSE_WAIT_S: Final = 5.0
_NO_TIMEOUTS: Final[Mapping[str, float]] = {}
_NO_SCOPES: Final[Mapping[str, Collection[str]]] = {}


class ToolExecutor:
    """Validates arguments, enforces timeouts and turns every ending into a `tool_completed`.

    A result larger than `max_result_bytes` (as JSON) is dropped: the call ends with
    `status: error`, `error.type` `result_too_large`, so no reader's socket or run log has to
    hold it.

    Every `tool_executing` it publishes gets exactly one `tool_completed` with its `call_id`,
    also when the call is cancelled while either event is being published.
    """

    __slots__ = ("_calls", "_closed", "_configured_scopes", "_default_timeout_s",
                 "_max_result_bytes", "_permissions", "_tasks", "_timeouts", "registry", "sink",
                 "user_context")

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        sink: EventSink,
        registry: ToolRegistry,
        default_timeout_s: float = 30.0,
        timeouts: Mapping[str, float] = _NO_TIMEOUTS,
        max_result_bytes: int | None = None,
        permissions: ToolPermissions | None = None,
        settings: ScopeSettings | None = None,
        extra_tools: Sequence[ToolSpec] = (),
    ) -> None:
        """Build an executor; `settings` (the container passes its own) supplies the timeouts,
        the result bound and the scopes tools need; `extra_tools` join `registry` for this
        executor only."""
        if extra_tools:
            registry = registry.overlay(extra_tools)
        if settings is not None:
            tools = settings.tools
            default_timeout_s, timeouts = tools.timeout_s, tools.timeouts
            max_result_bytes = tools.max_result_bytes
            self._configured_scopes: Mapping[str, Collection[str]] = tools.scopes
        else:
            self._configured_scopes = _NO_SCOPES
        self.user_context = user_context
        self.sink = sink
        self.registry = registry
        self._permissions = permissions  # built from the settings on first use
        self._default_timeout_s = default_timeout_s
        self._timeouts = timeouts  # shared, read-only
        self._max_result_bytes = max_result_bytes
        self._tasks: set[asyncio.Task[Any]] | None = None
        self._calls: set[asyncio.Future[None]] | None = None
        self._closed = False

    @property
    def permissions(self) -> ToolPermissions:
        """Return which tools this run's user may call (`tools.scopes`, else each tool's own)."""
        found = self._permissions
        if found is None:
            found = self._permissions = ToolPermissions(self._configured_scopes)
        return found

    @property
    def closed(self) -> bool:
        """Return True once `aclose()` ran."""
        return self._closed

    @property
    def pending(self) -> int:
        """Return how many tool tasks are still running."""
        return len(self._tasks or ())

    def timeout_for(self, spec: ToolSpec) -> float:
        """Return the timeout of `spec`: `tools.timeouts`, else the tool's own, else default."""
        override = self._timeouts.get(spec.name)
        if override is not None:
            return override
        return spec.timeout_s if spec.timeout_s is not None else self._default_timeout_s

    def may_call(self, spec: ToolSpec) -> bool:
        """Return True when this run's user has every scope `spec` needs."""
        return self.permissions.allows(spec, self.user_context.scopes)

    async def execute(self, call: ToolCall) -> ToolCompleted:
        """Run `call`; emit its two events; never raise for tool failures."""
        if self._closed:
            raise ScopeClosedError("this executor's request scope is closed")
        started = time.perf_counter()
        finished = asyncio.get_running_loop().create_future()
        if self._calls is None:
            self._calls = set()
        self._calls.add(finished)  # aclose() waits for it: every tool_executing gets its pair
        try:
            # A sink that raises CancelledError has published the event, so the call is open.
            try:
                await self.sink.emit(ToolExecuting(call.tool, call.call_id, call.args))
                outcome = await self._run(call, started)
            except asyncio.CancelledError:
                await self.sink.emit(_ended(call, started, "cancelled", ErrorInfo(
                    "cancelled", "the tool call was cancelled")))
                raise
            await self.sink.emit(outcome)
            return outcome
        finally:
            self._calls.discard(finished)
            finished.set_result(None)

    async def _run(self, call: ToolCall, started: float) -> ToolCompleted:
        def fail(status: ToolStatus, kind: str, message: str) -> ToolCompleted:
            return _ended(call, started, status, ErrorInfo(kind, message))

        spec = self.registry.get(call.tool)
        if spec is None:
            return fail("error", "unknown_tool", f"no tool named {call.tool!r}")
        if not self.may_call(spec):
            return fail("error", "forbidden", f"you may not call {call.tool!r} (it needs the "
                        f"scopes {', '.join(sorted(self.permissions.required(spec)))})")
        if isinstance(call.args, UnparsedArguments):
            return fail("error", "invalid_arguments", call.args.problem)
        try:
            parsed = spec.parse(call.args)
        except ValidationError as exc:
            return fail("error", "invalid_arguments", describe_validation_error(exc))
        timeout = self.timeout_for(spec)
        try:
            if spec.inline:  # runs to its end on the loop: nothing to time out or cancel
                raw = await spec.invoke(parsed)
            else:
                raw = await self._invoke_in_task(spec, parsed, timeout)
        except TimeoutError:
            return fail("timeout", "timeout", f"{call.tool} took longer than {timeout:g} s")
        except ToolError as exc:
            return fail("error", exc.error_type, str(exc) or type(exc).__name__)
        except Exception as exc:
            log.warning("tool %s raised", call.tool, exc_info=True,
                        extra={"run_id": self.user_context.run_id,
                               "user_id": self.user_context.user_id})
            return fail("error", type(exc).__name__, str(exc) or type(exc).__name__)
        try:
            result, size = json_result(raw)
        except ValueError as exc:
            return fail("error", "unserialisable_result", str(exc))
        limit = self._max_result_bytes
        if limit is not None and size > limit:
            return fail("error", "result_too_large",
                        f"{call.tool} returned {size:,} bytes of JSON, more than the "
                        f"{limit:,} allowed (tools.max_result_bytes)")
        return ToolCompleted(tool=call.tool, call_id=call.call_id, status="ok",
                             duration_ms=_elapsed_ms(started), result=result)

    async def _invoke_in_task(self, spec: ToolSpec, parsed: BaseModel, limit_s: float) -> Any:
        """Run the tool as a task this executor can cancel; stop it past `limit_s`."""
        task = asyncio.ensure_future(spec.invoke(parsed))
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            return await asyncio.wait_for(asyncio.shield(task), limit_s)
        except BaseException:  # timed out, cancelled, or the tool raised: it must not linger
            task.cancel()
            raise

    async def aclose(self) -> None:
        """Cancel tool tasks still running, let their calls report it, refuse new calls."""
        self._closed = True
        if self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._calls:  # calls whose caller did not await them: bounded, never a hang
            await asyncio.wait(list(self._calls), timeout=CLOSE_WAIT_S)


def _ended(call: ToolCall, started: float, status: ToolStatus, error: ErrorInfo) -> ToolCompleted:
    return ToolCompleted(tool=call.tool, call_id=call.call_id, status=status,
                         duration_ms=_elapsed_ms(started), error=error)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
