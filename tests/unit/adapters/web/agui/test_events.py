"""The AG-UI mapping: each run event's AG-UI events, valid and in AG-UI's order."""

from __future__ import annotations

from typing import Any

import pytest
from ag_ui.core import (
    BaseEvent,
    CustomEvent,
    RunErrorEvent,
    RunStartedEvent,
    TextMessageContentEvent,
    ToolCallArgsEvent,
    ToolCallEndEvent,
    ToolCallResultEvent,
)

from tests.agui_conformance import as_event, check_run_order, outcome, parse_strict, toolwire_meta
from toolwire.adapters.web.agui.events import agui_bytes, agui_events, error_event, pong_event
from toolwire.services.events import EventType, RunEvent

TS = "2026-11-24T21:50:00.123456Z"


def ev(seq: int, kind: EventType, **data: Any) -> RunEvent:
    return RunEvent(kind, "r_1", "t_1", seq, TS, data)


STARTED = ev(1, "agent_started", agent="embedded", message="6*7?", request_id="q-1")
THINKING = ev(2, "agent_thinking", text="Calling calculator.", step=1)
EXECUTING = ev(3, "tool_executing", tool="calculator", call_id="c_1",
               args={"expression": "6*7"})
TOOL_OK = ev(4, "tool_completed", tool="calculator", call_id="c_1", status="ok", result=42,
             duration_ms=0.8)
TOOL_ERROR = ev(4, "tool_completed", tool="calculator", call_id="c_1", status="error",
                error={"type": "invalid_arguments", "message": "expression: required"},
                duration_ms=0.1)
DONE_OK = ev(5, "agent_completed", status="ok", answer="6*7 = 42", duration_ms=1.2)
DONE_ERROR = ev(5, "agent_completed", status="error",
                error={"type": "limit_exceeded", "message": "more than 32 tool calls"},
                duration_ms=3.0)
DONE_CANCELLED = ev(5, "agent_completed", status="cancelled",
                    error={"type": "cancelled", "message": "cancelled"}, duration_ms=3.0)


def wire(*events: RunEvent) -> list[BaseEvent]:
    """Map, serialise and parse back with the package's models, as a client would."""
    return [parse_strict(agui_bytes(a)) for e in events for a in agui_events(e)]


def types(events: list[BaseEvent]) -> list[str]:
    return [e.type.value for e in events]


def test_a_run_with_a_tool_call_maps_to_valid_ordered_agui() -> None:
    out = wire(STARTED, THINKING, EXECUTING, TOOL_OK, DONE_OK)
    check_run_order(out)
    assert types(out) == [
        "RUN_STARTED",
        "REASONING_START", "REASONING_MESSAGE_START", "REASONING_MESSAGE_CONTENT",
        "REASONING_MESSAGE_END", "REASONING_END",
        "TOOL_CALL_START", "TOOL_CALL_ARGS", "TOOL_CALL_END",
        "TOOL_CALL_RESULT",
        "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
        "RUN_FINISHED",
    ]
    started = as_event(out[0], RunStartedEvent)
    args = as_event(out[7], ToolCallArgsEvent)
    result = as_event(out[9], ToolCallResultEvent)
    answer = as_event(out[11], TextMessageContentEvent)
    assert (started.run_id, started.thread_id, started.protocol_version) == ("r_1", "t_1", "1.0")
    assert started.input is not None
    assert started.input.run_id == "q-1"  # the request id the client chose
    assert started.input.messages[0].content == "6*7?"
    assert args.delta == '{"expression":"6*7"}'
    assert (result.tool_call_id, result.content) == ("c_1", "42")
    assert toolwire_meta(result)["status"] == "ok"
    assert toolwire_meta(result)["duration_ms"] == 0.8
    assert answer.delta == "6*7 = 42"
    assert outcome(out[13]) == "success"


def test_every_event_names_its_run_and_seq_and_carries_the_time() -> None:
    out = wire(STARTED, THINKING, EXECUTING, TOOL_OK, DONE_OK)
    seqs = [toolwire_meta(e)["seq"] for e in out]
    assert seqs == [1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 5, 5, 5, 5]
    assert {toolwire_meta(e)["run_id"] for e in out} == {"r_1"}
    assert {e.timestamp for e in out} == {1795557000123}


def test_a_failed_tool_is_a_result_with_its_error_and_the_run_goes_on() -> None:
    out = wire(STARTED, EXECUTING, TOOL_ERROR, DONE_OK)
    check_run_order(out)
    result = next(e for e in out if isinstance(e, ToolCallResultEvent))
    assert result.content == "expression: required"
    assert toolwire_meta(result)["status"] == "error"
    assert toolwire_meta(result)["error"] == {"type": "invalid_arguments",
                                              "message": "expression: required"}


def test_a_failed_run_ends_with_run_error_naming_the_error() -> None:
    out = wire(STARTED, THINKING, DONE_ERROR)
    check_run_order(out)
    assert types(out)[-1] == "RUN_ERROR"
    failed = as_event(out[-1], RunErrorEvent)
    assert (failed.code, failed.message) == ("limit_exceeded", "more than 32 tool calls")


def test_a_cancelled_run_finishes_with_the_cancelled_outcome() -> None:
    out = wire(STARTED, EXECUTING,
               ev(3, "tool_completed", tool="sleep", call_id="c_1", status="cancelled",
                  error={"type": "cancelled", "message": "cancelled"}, duration_ms=9.0),
               DONE_CANCELLED)
    check_run_order(out)
    assert types(out)[-1] == "RUN_FINISHED"
    assert outcome(out[-1]) == "cancelled"


def test_an_empty_answer_or_thought_sends_no_empty_content() -> None:
    out = wire(STARTED, ev(2, "agent_thinking", text="", step=1),
               ev(3, "agent_completed", status="ok", answer="", duration_ms=1.0))
    check_run_order(out)
    assert "TEXT_MESSAGE_CONTENT" not in types(out)
    assert "REASONING_MESSAGE_CONTENT" not in types(out)


def test_a_string_result_is_sent_as_is_and_others_as_json() -> None:
    text = ev(4, "tool_completed", tool="echo", call_id="c_1", status="ok", result="hi <b>",
              duration_ms=0.1)
    listed = ev(4, "tool_completed", tool="x", call_id="c_1", status="ok", result=[1, "é"],
                duration_ms=0.1)
    assert as_event(wire(text)[0], ToolCallResultEvent).content == "hi <b>"
    assert as_event(wire(listed)[0], ToolCallResultEvent).content == '[1,"é"]'


def test_the_mapping_is_a_function_of_the_event_so_a_stream_can_resume_anywhere() -> None:
    for event in (STARTED, THINKING, EXECUTING, TOOL_OK, DONE_OK, DONE_ERROR):
        assert [agui_bytes(a) for a in agui_events(event)] == [
            agui_bytes(a) for a in agui_events(event)]


def test_refusals_and_pong_are_agui_events_too() -> None:
    refused = as_event(parse_strict(agui_bytes(error_event("rate_limited", "slow down", "q-9"))),
                       RunErrorEvent)
    assert (refused.type.value, refused.code) == ("RUN_ERROR", "rate_limited")
    assert toolwire_meta(refused) == {"request_id": "q-9"}
    assert parse_strict(agui_bytes(error_event("invalid_json", "bad"))).metadata is None
    pong = as_event(parse_strict(agui_bytes(pong_event())), CustomEvent)
    assert (pong.type.value, pong.name) == ("CUSTOM", "pong")


# The checks themselves must be able to fail, or the tests above prove nothing.

@pytest.mark.parametrize(("events", "problem"), [
    ([DONE_OK], "first event"),
    ([STARTED, EXECUTING, DONE_OK], None),
    ([STARTED, TOOL_OK, DONE_OK], "not started and ended"),
    ([STARTED, EXECUTING, TOOL_OK, TOOL_OK, DONE_OK], "second result"),
    ([STARTED, DONE_OK, THINKING], "already ended"),
    ([STARTED, DONE_ERROR, DONE_OK], "already ended"),
    ([STARTED, THINKING], "without RUN_FINISHED"),
    ([STARTED, STARTED], "still active"),
])
def test_the_order_check_rejects_what_agui_forbids(events: list[RunEvent],
                                                   problem: str | None) -> None:
    out = wire(*events)
    if problem is None:  # a call that is never answered is allowed (a frontend tool)
        check_run_order(out)
        return
    with pytest.raises(AssertionError, match=problem):
        check_run_order(out)


def test_the_order_check_rejects_a_run_finished_inside_an_open_tool_call() -> None:
    out = wire(STARTED, EXECUTING, DONE_OK)
    with pytest.raises(AssertionError, match="tool calls still open"):
        check_run_order(out[:2] + out[-1:])


def test_the_strict_parse_rejects_unknown_fields_and_lossy_values() -> None:
    good = {"type": "TOOL_CALL_END", "toolCallId": "c_1"}
    assert as_event(parse_strict(good), ToolCallEndEvent).tool_call_id == "c_1"
    with pytest.raises(AssertionError, match="unknown fields"):
        parse_strict({**good, "callId": "c_1"})
    with pytest.raises(AssertionError, match="round-trip"):
        parse_strict({**good, "timestamp": "17"})
    with pytest.raises(ValueError, match="toolCallId"):
        parse_strict({"type": "TOOL_CALL_END"})


def test_a_lone_surrogate_from_a_tool_becomes_a_replacement_character() -> None:
    result = ev(4, "tool_completed", tool="t", call_id="c_1", status="ok", result="a\ud800b",
                duration_ms=0.1)
    (frame,) = [agui_bytes(a) for a in agui_events(result)]
    assert as_event(parse_strict(frame.decode("utf-8")), ToolCallResultEvent).content == "a\ufffdb"
