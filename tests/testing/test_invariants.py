"""`assert_well_formed` catches each §3 invariant violation, shown on hand-built runs."""

from __future__ import annotations

from typing import Any

import pytest

from toolwire.testing import assert_sequence, assert_well_formed, format_run_table, run_problems


def event(seq: int, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return one wire event of run `r_1`."""
    return {"type": kind, "run_id": "r_1", "thread_id": "t_1", "seq": seq,
            "ts": "2026-11-25T12:00:00.000000Z", "data": data}


def numbered(*events: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a run of `(type, data)` pairs numbered 1..n."""
    return [event(i, kind, data) for i, (kind, data) in enumerate(events, start=1)]


STARTED = ("agent_started", {"agent": "embedded", "message": "hi", "request_id": "q_1"})
THINKING = ("agent_thinking", {"text": "hm", "step": 1})
EXECUTING = ("tool_executing", {"tool": "echo", "call_id": "c_1", "args": {"text": "x"}})
COMPLETED_TOOL = ("tool_completed", {"tool": "echo", "call_id": "c_1", "status": "ok",
                                     "result": "x", "duration_ms": 1.0})
COMPLETED = ("agent_completed", {"status": "ok", "answer": "x", "duration_ms": 2.0})
GOOD = numbered(STARTED, THINKING, EXECUTING, COMPLETED_TOOL, COMPLETED)


def test_a_good_run_has_no_problems() -> None:
    assert run_problems(GOOD) == []
    assert_well_formed(GOOD)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        pytest.param(numbered(STARTED, EXECUTING, COMPLETED_TOOL),
                     "expected exactly one agent_completed, found 0",
                     id="missing-agent-completed"),
        pytest.param([event(1, *STARTED), event(2, *THINKING), event(4, *COMPLETED)],
                     "seq is not 1..3 without gaps: [1, 2, 4]", id="seq-gap"),
        pytest.param([event(2, *STARTED), event(3, *COMPLETED)],
                     "seq is not 1..2 without gaps: [2, 3]", id="seq-not-from-1"),
        pytest.param(numbered(STARTED, EXECUTING, COMPLETED),
                     "tool_executing c_1 has no tool_completed", id="unpaired-tool-executing"),
        pytest.param(numbered(STARTED, COMPLETED_TOOL, COMPLETED),
                     "tool_completed c_1 has no tool_executing before it",
                     id="tool-completed-without-executing"),
        pytest.param(numbered(THINKING, STARTED, COMPLETED),
                     "first event is 'agent_thinking', not 'agent_started'",
                     id="wrong-first-event"),
        pytest.param(numbered(STARTED, COMPLETED, COMPLETED),
                     "expected exactly one agent_completed, found 2", id="two-agent-completed"),
        pytest.param(numbered(STARTED, COMPLETED, THINKING),
                     "agent_completed is not the last event", id="agent-completed-not-last"),
        pytest.param([], "the run has no events", id="empty"),
        pytest.param(numbered(STARTED, EXECUTING, EXECUTING, COMPLETED_TOOL, COMPLETED),
                     "tool_executing c_1 appears twice", id="tool-executing-twice"),
        pytest.param([{k: v for k, v in e.items() if k != "ts"} for e in GOOD],
                     "event #1 lacks ts", id="envelope-field-missing"),
        pytest.param([event(1, *STARTED), {**event(2, *COMPLETED), "run_id": "r_2"}],
                     "events of several runs are mixed: ['r_1', 'r_2']", id="runs-mixed"),
        pytest.param(numbered(STARTED, ("agent_dreaming", {}), COMPLETED),
                     "event #2 has unknown type 'agent_dreaming'", id="unknown-type"),
    ],
)
def test_each_violation_is_named(bad: list[dict[str, Any]], problem: str) -> None:
    assert problem in run_problems(bad)
    with pytest.raises(AssertionError, match="run is not well-formed") as failure:
        assert_well_formed(bad)
    assert problem in str(failure.value)


def test_mixed_runs_and_unknown_types_are_problems() -> None:
    other = {**event(2, *COMPLETED), "run_id": "r_2"}
    assert any("several runs" in p for p in run_problems([event(1, *STARTED), other]))
    odd = numbered(STARTED, ("agent_dancing", {}), COMPLETED)
    assert "event #2 has unknown type 'agent_dancing'" in run_problems(odd)


def test_the_failure_shows_the_run_as_a_table_not_a_dict_dump() -> None:
    bad = numbered(STARTED, EXECUTING, COMPLETED)
    with pytest.raises(AssertionError) as failure:
        assert_well_formed(bad)
    message = str(failure.value)
    assert format_run_table(bad) in message
    assert "{" not in message


def test_the_table_has_seq_type_tool_and_status_columns() -> None:
    assert format_run_table(GOOD).splitlines() == [
        "seq  type             tool  status",
        "1    agent_started",
        "2    agent_thinking",
        "3    tool_executing   echo",
        "4    tool_completed   echo  ok",
        "5    agent_completed        ok",
    ]


def test_assert_sequence_compares_types_and_shows_the_table() -> None:
    assert_sequence(GOOD, ["agent_started", "agent_thinking", "tool_executing",
                           "tool_completed", "agent_completed"])
    with pytest.raises(AssertionError, match="event types differ") as failure:
        assert_sequence(GOOD, ["agent_started", "agent_completed"])
    assert "3    tool_executing   echo" in str(failure.value)
