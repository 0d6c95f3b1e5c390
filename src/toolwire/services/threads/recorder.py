"""`TurnRecorder`: writes a run's turn to its thread from the run's own events."""

from __future__ import annotations

from typing import Any

from toolwire.services.context import UserExecutionContext
from toolwire.services.events import AgentCompleted, ErrorInfo, EventPayload
from toolwire.services.ports import ThreadStore
from toolwire.services.threads.models import ToolCallRecord, Turn
from toolwire.services.wire_json import encode, timestamp

CUT_MARK = "…[cut]"


class TurnRecorder:
    """Writes one run's turn: it notes the run's events as they are published (its message,
    its tool calls with their arguments and results) and `finish` stores the turn just
    before the run's `agent_completed` is published."""

    __slots__ = ("_args", "_calls", "_max_result_chars", "_message", "_started_at", "_store",
                 "user_context")

    def __init__(
        self, *, user_context: UserExecutionContext, store: ThreadStore, max_result_chars: int,
    ) -> None:
        self.user_context = user_context
        self._store = store
        self._max_result_chars = max_result_chars
        self._message = ""
        self._started_at = ""
        self._args: dict[str, tuple[str, dict[str, Any]]] = {}
        self._calls: list[ToolCallRecord] = []

    def note(self, payload: EventPayload, ts: str) -> None:
        """Take in one event of the run, published at `ts`."""
        kind = payload.type
        if kind == "tool_executing" or kind == "tool_completed":
            data = payload.data()
            if kind == "tool_executing":
                self._args[data["call_id"]] = (data["tool"], data.get("args") or {})
            else:
                self._tool_completed(data)
        elif kind == "agent_started":
            self._message = payload.data()["message"]
            self._started_at = ts

    def _tool_completed(self, data: dict[str, Any]) -> None:
        call_id = data["call_id"]
        tool, args = self._args.pop(call_id, (data["tool"], {}))
        error = data.get("error")
        self._calls.append(ToolCallRecord(
            call_id=call_id, tool=tool, args=args, status=data["status"],
            result=self._cut(data.get("result")),
            error=ErrorInfo(error["type"], error["message"]) if error else None,
        ))

    async def finish(self, final: AgentCompleted) -> None:
        """Store the run's turn, ended by `final` (called before `final` is published)."""
        ctx = self.user_context
        ended_at = timestamp()
        turn = Turn(
            run_id=ctx.run_id, message=self._message, status=final.status,
            started_at=self._started_at or ended_at, ended_at=ended_at,
            answer=final.answer if final.status == "ok" else None,
            error=final.error, tool_calls=tuple(self._calls),
        )
        await self._store.append(ctx.user_id, ctx.thread_id, turn)

    def _cut(self, result: Any) -> Any:
        """Return `result`, or its JSON text cut to `max_result_chars` when longer."""
        limit = self._max_result_chars
        if result is None or isinstance(result, bool | int | float):
            return result
        if isinstance(result, str):
            return result if len(result) <= limit else result[:limit] + CUT_MARK
        text = encode(result).decode()
        return result if len(text) <= limit else text[:limit] + CUT_MARK
