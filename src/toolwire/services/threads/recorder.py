"""`TurnRecorder`: writes a run's turn to its thread from the run's own events."""

from __future__ import annotations

import json
import logging
from typing import Any

from toolwire.services.context import UserExecutionContext
from toolwire.services.events import ErrorInfo, RunEvent
from toolwire.services.ports import ThreadStore
from toolwire.services.threads.models import ToolCallRecord, Turn

log = logging.getLogger(__name__)

CUT_MARK = "…[cut]"


class TurnRecorder:
    """An event observer of one run: `agent_started` claims the thread, `agent_completed`
    adds the turn (message, status, answer or error, tool calls with their results)."""

    __slots__ = ("_args", "_calls", "_hold_s", "_max_result_chars", "_message", "_started_at",
                 "_store", "user_context")

    def __init__(
        self, *, user_context: UserExecutionContext, store: ThreadStore,
        max_result_chars: int, hold_s: float,
    ) -> None:
        self.user_context = user_context
        self._store = store
        self._max_result_chars = max_result_chars
        self._hold_s = hold_s
        self._message = ""
        self._started_at = ""
        self._args: dict[str, tuple[str, dict[str, Any]]] = {}
        self._calls: list[ToolCallRecord] = []

    async def __call__(self, event: RunEvent) -> None:
        """Take one event of the run in."""
        data = event.data
        kind = event.type
        if kind == "tool_executing":
            self._args[data["call_id"]] = (data["tool"], data.get("args") or {})
        elif kind == "tool_completed":
            self._tool_completed(data)
        elif kind == "agent_started":
            self._message = data["message"]
            self._started_at = event.ts
            ctx = self.user_context
            holder = await self._store.claim(ctx.user_id, ctx.thread_id, ctx.run_id,
                                             message=self._message, hold_s=self._hold_s)
            if holder is not None:
                log.warning("thread %s is held by run %s", ctx.thread_id, holder,
                            extra={"run_id": ctx.run_id, "user_id": ctx.user_id})
        elif kind == "agent_completed":
            await self._completed(event)

    def _tool_completed(self, data: dict[str, Any]) -> None:
        call_id = data["call_id"]
        tool, args = self._args.pop(call_id, (data["tool"], {}))
        error = data.get("error")
        self._calls.append(ToolCallRecord(
            call_id=call_id, tool=tool, args=args, status=data["status"],
            result=self._cut(data.get("result")),
            error=ErrorInfo(error["type"], error["message"]) if error else None,
        ))

    async def _completed(self, event: RunEvent) -> None:
        data = event.data
        error = data.get("error")
        turn = Turn(
            run_id=event.run_id, message=self._message, status=data["status"],
            started_at=self._started_at or event.ts, ended_at=event.ts,
            answer=data.get("answer"),
            error=ErrorInfo(error["type"], error["message"]) if error else None,
            tool_calls=tuple(self._calls),
        )
        ctx = self.user_context
        await self._store.append(ctx.user_id, ctx.thread_id, turn)

    def _cut(self, result: Any) -> Any:
        """Return `result`, or its JSON text cut to `max_result_chars` when longer."""
        limit = self._max_result_chars
        if result is None or isinstance(result, bool | int | float):
            return result
        if isinstance(result, str):
            return result if len(result) <= limit else result[:limit] + CUT_MARK
        text = json.dumps(result, ensure_ascii=False)
        return result if len(text) <= limit else text[:limit] + CUT_MARK
