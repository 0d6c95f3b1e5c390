"""Check AG-UI output with the `ag-ui-protocol` package's own models and ordering rules.

`parse_strict` validates one event with the package's `Event` union, refuses unknown fields
anywhere in it (the package itself keeps them) and checks that it re-serialises to exactly
what was sent. `check_run_order` applies the protocol's ordering rules: those of the
reference client's `verifyEvents` (ag-ui sdks/typescript/packages/client/src/verify/verify.ts)
plus the reasoning and tool-result rules of the 1.0 event docs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ag_ui.core import BaseEvent, Event, EventType
from pydantic import BaseModel, TypeAdapter

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def parse_strict(raw: str | bytes | dict[str, Any]) -> BaseEvent:
    """Return the package's model of one AG-UI event; fail on unknown fields or lossy parsing."""
    data = raw if isinstance(raw, dict) else json.loads(raw)
    event: BaseEvent = _EVENT.validate_python(data)
    _forbid_unknown_fields(event, type(event).__name__)
    again = json.loads(event.model_dump_json(by_alias=True))
    assert again == data, f"{type(event).__name__} does not round-trip:\n{data}\n{again}"
    return event


def _forbid_unknown_fields(value: Any, where: str) -> None:
    if isinstance(value, BaseModel):
        extra = value.model_extra or {}
        assert not extra, f"{where} has unknown fields {sorted(extra)}"
        for name in type(value).model_fields:
            if name != "metadata":  # metadata is open by key in the protocol
                _forbid_unknown_fields(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _forbid_unknown_fields(item, f"{where}[{i}]")


def toolwire_meta(event: BaseEvent) -> dict[str, Any]:
    """Return the event's `metadata.toolwire` object (empty when absent)."""
    meta: dict[str, Any] = (event.metadata or {}).get("toolwire", {})
    return meta


def by_run(events: Iterable[BaseEvent]) -> dict[str, list[BaseEvent]]:
    """Split a socket's events into runs by `metadata.toolwire.run_id`, keeping their order."""
    runs: dict[str, list[BaseEvent]] = {}
    for event in events:
        run_id = toolwire_meta(event).get("run_id")
        assert run_id, f"{event.type.value} carries no metadata.toolwire.run_id"
        runs.setdefault(run_id, []).append(event)
    return runs


class _RunState:
    def __init__(self) -> None:
        self.messages: set[str] = set()
        self.tool_calls: set[str] = set()
        self.ended_calls: set[str] = set()
        self.answered_calls: set[str] = set()
        self.steps: set[str] = set()
        self.reasoning: str | None = None
        self.reasoning_messages: set[str] = set()


def check_run_order(events: list[BaseEvent], *, finished: bool = True) -> None:
    """Assert AG-UI's ordering rules over one stream; `finished`: it must end its run."""
    assert events, "no events"
    assert events[0].type in (EventType.RUN_STARTED, EventType.RUN_ERROR), (
        f"the first event must be RUN_STARTED, not {events[0].type.value}")
    state: _RunState | None = None
    ended = True
    for i, event in enumerate(events):
        kind = event.type
        where = f"event {i} ({kind.value})"
        if kind is EventType.RUN_STARTED:
            assert ended, f"{where}: RUN_STARTED while a run is still active"
            state, ended = _RunState(), False
            continue
        assert not ended, f"{where}: the run already ended"
        assert state is not None or kind is EventType.RUN_ERROR, f"{where}: before RUN_STARTED"
        if kind is EventType.RUN_ERROR:
            ended = True
            continue
        assert state is not None
        if kind is EventType.RUN_FINISHED:
            _assert_all_closed(state, where)
            ended = True
        else:
            _check_inner(state, event, where)
    if finished:
        assert ended, f"the stream ends without RUN_FINISHED or RUN_ERROR: {events[-1].type.value}"


def _assert_all_closed(state: _RunState, where: str) -> None:
    assert not state.messages, f"{where}: text messages still open: {state.messages}"
    assert not state.tool_calls, f"{where}: tool calls still open: {state.tool_calls}"
    assert not state.steps, f"{where}: steps still open: {state.steps}"
    assert state.reasoning is None, f"{where}: reasoning still open"


def _check_inner(state: _RunState, event: BaseEvent, where: str) -> None:
    kind = event.type
    data = event.model_dump()
    if kind is EventType.TEXT_MESSAGE_START:
        assert data["message_id"] not in state.messages, f"{where}: message already open"
        state.messages.add(data["message_id"])
    elif kind in (EventType.TEXT_MESSAGE_CONTENT, EventType.TEXT_MESSAGE_END):
        assert data["message_id"] in state.messages, f"{where}: no open message"
        if kind is EventType.TEXT_MESSAGE_END:
            state.messages.remove(data["message_id"])
    elif kind is EventType.TOOL_CALL_START:
        call = data["tool_call_id"]
        assert call not in state.tool_calls | state.ended_calls, f"{where}: call id reused"
        state.tool_calls.add(call)
    elif kind in (EventType.TOOL_CALL_ARGS, EventType.TOOL_CALL_END):
        assert data["tool_call_id"] in state.tool_calls, f"{where}: no open tool call"
        if kind is EventType.TOOL_CALL_END:
            state.tool_calls.remove(data["tool_call_id"])
            state.ended_calls.add(data["tool_call_id"])
    elif kind is EventType.TOOL_CALL_RESULT:
        call = data["tool_call_id"]
        assert call in state.ended_calls, f"{where}: result for a call not started and ended"
        assert call not in state.answered_calls, f"{where}: second result for {call}"
        state.answered_calls.add(call)
    elif kind in (EventType.STEP_STARTED, EventType.STEP_FINISHED):
        _check_step(state, kind, data["step_name"], where)
    else:
        _check_reasoning(state, kind, data.get("message_id"), where)


def _check_step(state: _RunState, kind: EventType, name: str, where: str) -> None:
    if kind is EventType.STEP_STARTED:
        assert name not in state.steps, f"{where}: step already active"
        state.steps.add(name)
    else:
        assert name in state.steps, f"{where}: step not started"
        state.steps.remove(name)


def _check_reasoning(state: _RunState, kind: EventType, message_id: str | None,
                     where: str) -> None:
    if kind is EventType.REASONING_START:
        assert state.reasoning is None, f"{where}: reasoning already open"
        state.reasoning = message_id
    elif kind is EventType.REASONING_MESSAGE_START:
        assert state.reasoning is not None, f"{where}: outside REASONING_START/END"
        assert message_id not in state.reasoning_messages, f"{where}: already open"
        state.reasoning_messages.add(str(message_id))
    elif kind in (EventType.REASONING_MESSAGE_CONTENT, EventType.REASONING_MESSAGE_END):
        assert message_id in state.reasoning_messages, f"{where}: no open reasoning message"
        if kind is EventType.REASONING_MESSAGE_END:
            state.reasoning_messages.remove(message_id)
    elif kind is EventType.REASONING_END:
        assert state.reasoning == message_id, f"{where}: closes a reasoning span not open"
        assert not state.reasoning_messages, f"{where}: reasoning messages still open"
        state.reasoning = None
    else:
        raise AssertionError(f"{where}: toolwire never sends {kind.value}")
