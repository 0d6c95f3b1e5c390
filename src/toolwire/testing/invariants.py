"""The run invariants of docs/protocol.md, checked on any list of events (objects or dicts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolwire.services.events import EVENT_TYPES, RunEvent

EventLike = RunEvent | Mapping[str, Any]
ENVELOPE_KEYS = ("type", "run_id", "thread_id", "seq", "ts", "data")


def _wire(event: EventLike) -> Mapping[str, Any]:
    return event.to_wire() if isinstance(event, RunEvent) else event


def run_problems(events: Sequence[EventLike]) -> list[str]:
    """Return every way `events` (one run, in arrival order) breaks the §3 invariants."""
    wire = [_wire(e) for e in events]
    if not wire:
        return ["the run has no events"]
    problems: list[str] = []
    for i, event in enumerate(wire):
        missing = [key for key in ENVELOPE_KEYS if key not in event]
        if missing:
            problems.append(f"event #{i + 1} lacks {', '.join(missing)}")
        if event.get("type") not in EVENT_TYPES:
            problems.append(f"event #{i + 1} has unknown type {event.get('type')!r}")
    run_ids = {e.get("run_id") for e in wire}
    if len(run_ids) != 1:
        problems.append(f"events of several runs are mixed: {sorted(map(str, run_ids))}")
    seqs = [e.get("seq") for e in wire]
    if seqs != list(range(1, len(wire) + 1)):
        problems.append(f"seq is not 1..{len(wire)} without gaps: {seqs}")
    if wire[0].get("type") != "agent_started":
        problems.append(f"first event is {wire[0].get('type')!r}, not 'agent_started'")
    completed = [i for i, e in enumerate(wire) if e.get("type") == "agent_completed"]
    if len(completed) != 1:
        problems.append(f"expected exactly one agent_completed, found {len(completed)}")
    elif completed[0] != len(wire) - 1:
        problems.append("agent_completed is not the last event")
    problems.extend(_pairing_problems(wire))
    return problems


def _pairing_problems(wire: Sequence[Mapping[str, Any]]) -> list[str]:
    open_calls: set[str] = set()
    problems: list[str] = []
    for event in wire:
        call_id = str((event.get("data") or {}).get("call_id"))
        kind = event.get("type")
        if kind == "tool_executing" and call_id in open_calls:
            problems.append(f"tool_executing {call_id} appears twice")
        elif kind == "tool_executing":
            open_calls.add(call_id)
        elif kind == "tool_completed" and call_id not in open_calls:
            problems.append(f"tool_completed {call_id} has no tool_executing before it")
        elif kind == "tool_completed":
            open_calls.discard(call_id)
    problems.extend(f"tool_executing {c} has no tool_completed" for c in open_calls)
    return problems


def format_run_table(events: Sequence[EventLike]) -> str:
    """Render a run as a readable table: seq, type, tool, status."""
    rows = [("seq", "type", "tool", "status")]
    for event in map(_wire, events):
        data = event.get("data") or {}
        rows.append((str(event.get("seq", "?")), str(event.get("type", "?")),
                     str(data.get("tool", "")), str(data.get("status", ""))))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def assert_well_formed(events: Sequence[EventLike]) -> None:
    """Fail with the run as a table when `events` break any §3 invariant."""
    __tracebackhide__ = True  # pytest shows the table, not this frame's arguments
    problems = run_problems(events)
    if problems:
        raise AssertionError(
            "run is not well-formed:\n  - " + "\n  - ".join(problems)
            + "\n" + format_run_table(events)
        )


def assert_sequence(events: Sequence[EventLike], expected: Sequence[str]) -> None:
    """Fail with the run as a table unless the event types are exactly `expected`."""
    __tracebackhide__ = True
    actual = [_wire(e).get("type") for e in events]
    if actual != list(expected):
        raise AssertionError(
            f"event types differ:\n  expected {list(expected)}\n  actual   {actual}\n"
            + format_run_table(events)
        )
