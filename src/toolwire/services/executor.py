"""`ToolExecutor`: runs one tool call and reports it as `tool_executing`/`tool_completed`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ScopeClosedError, ToolError
from toolwire.services.events import ErrorInfo, ToolCompleted, ToolExecuting, ToolStatus
from toolwire.services.ports import EventSink
from toolwire.services.tools.calls import ToolCall, ToolOutcome, UnparsedArguments
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import ToolSpec, jsonable
from toolwire.services.validation import describe_validation_error

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 5.0


class ToolExecutor:
    """Validates arguments, enforces timeouts and turns every ending into a `tool_completed`."""

    __slots__ = ("_calls", "_closed", "_default_timeout_s", "_tasks", "_timeouts", "registry",
                 "sink", "user_context")

    def __init__(
        self,
        *,
        user_context: UserExecutionContext,
        sink: EventSink,
        registry: ToolRegistry,
        default_timeout_s: float = 30.0,
        timeouts: Mapping[str, float] | None = None,
    ) -> None:
        self.user_context = user_context
        self.sink = sink
        self.registry = registry
        self._default_timeout_s = default_timeout_s
        self._timeouts = dict(timeouts or {})
        self._tasks: set[asyncio.Task[Any]] = set()
        self._calls: set[asyncio.Future[None]] = set()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Return True once `aclose()` ran."""
        return self._closed

    @property
    def pending(self) -> int:
        """Return how many tool tasks are still running."""
        return len(self._tasks)

    def timeout_for(self, spec: ToolSpec) -> float:
        """Return the timeout of `spec`: setting override, then the tool's own, then default."""
        if spec.name in self._timeouts:
            return self._timeouts[spec.name]
        return spec.timeout_s if spec.timeout_s is not None else self._default_timeout_s

    async def execute(self, call: ToolCall) -> ToolOutcome:
        """Run `call`; emit its two events; never raise for tool failures."""
        if self._closed:
            raise ScopeClosedError("this executor's request scope is closed")
        await self.sink.emit(ToolExecuting(call.tool, call.call_id, call.args))
        started = time.perf_counter()
        finished = asyncio.get_running_loop().create_future()
        self._calls.add(finished)  # aclose() waits for it: every tool_executing gets its pair
        try:
            try:
                outcome = await self._run(call, started)
            except asyncio.CancelledError:
                await self._report(call, started, "cancelled", error=ErrorInfo(
                    "cancelled", "the tool call was cancelled"))
                raise
            await self.sink.emit(ToolCompleted(
                outcome.tool, outcome.call_id, outcome.status, outcome.duration_ms,
                outcome.result, outcome.error,
            ))
            return outcome
        finally:
            self._calls.discard(finished)
            finished.set_result(None)

    async def _report(
        self, call: ToolCall, started: float, status: ToolStatus, *, error: ErrorInfo
    ) -> None:
        duration = _elapsed_ms(started)
        await self.sink.emit(ToolCompleted(call.tool, call.call_id, status, duration, error=error))

    async def _run(self, call: ToolCall, started: float) -> ToolOutcome:
        def fail(status: ToolStatus, kind: str, message: str) -> ToolOutcome:
            error = ErrorInfo(kind, message)
            return ToolOutcome(call.call_id, call.tool, status, _elapsed_ms(started), error=error)

        spec = self.registry.get(call.tool)
        if spec is None:
            return fail("error", "unknown_tool", f"no tool named {call.tool!r}")
        if isinstance(call.args, UnparsedArguments):
            return fail("error", "invalid_arguments", call.args.problem)
        try:
            parsed = spec.parse(call.args)
        except ValidationError as exc:
            return fail("error", "invalid_arguments", describe_validation_error(exc))
        timeout = self.timeout_for(spec)
        task = asyncio.ensure_future(spec.invoke(parsed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            raw = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            return fail("timeout", "timeout", f"{call.tool} took longer than {timeout:g} s")
        except asyncio.CancelledError:
            task.cancel()
            raise
        except ToolError as exc:
            return fail("error", exc.error_type, str(exc) or type(exc).__name__)
        except Exception as exc:
            log.warning("tool %s raised", call.tool, exc_info=True,
                        extra={"run_id": self.user_context.run_id,
                               "user_id": self.user_context.user_id})
            return fail("error", type(exc).__name__, str(exc) or type(exc).__name__)
        try:
            result = jsonable(raw)
        except ValueError as exc:
            return fail("error", "unserialisable_result", str(exc))
        return ToolOutcome(call.call_id, call.tool, "ok", _elapsed_ms(started), result)

    async def aclose(self) -> None:
        """Cancel tool tasks still running, let their calls report it, refuse new calls."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._calls:  # calls whose caller did not await them: bounded, never a hang
            await asyncio.wait(list(self._calls), timeout=CLOSE_WAIT_S)


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
