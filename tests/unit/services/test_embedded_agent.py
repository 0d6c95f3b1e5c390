"""The embedded agent is deterministic: same message, same plan."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import pytest

from toolwire.services.agents.embedded import EmbeddedAgent, find_arithmetic
from toolwire.services.events import ErrorInfo
from toolwire.services.threads.models import ToolCallRecord, Turn
from toolwire.services.tools.calls import ToolOutcome, UnparsedArguments


class ScriptedRuntime:
    """Records thoughts and calls; answers tool calls from a table; offers those tools."""

    def __init__(self, results: dict[str, Any] | None = None,
                 offered: list[str] | None = None, history: Sequence[Turn] = ()) -> None:
        self.log: list[tuple[str, Any]] = []
        self.results = results or {}
        self.offered = list(self.results) if offered is None else offered
        self.history = history

    async def think(self, text: str) -> None:
        self.log.append(("think", text))

    async def call_tool(self, tool: str, args: dict[str, Any]) -> ToolOutcome:
        self.log.append(("call", (tool, args)))
        if tool in self.results:
            return ToolOutcome(
                tool=tool, call_id="c", status="ok", duration_ms=1.0, result=self.results[tool]
            )
        return ToolOutcome(
            tool=tool,
            call_id="c",
            status="error",
            duration_ms=1.0,
            error=ErrorInfo("unknown_tool", "no such"),
        )

    def tools(self) -> list[Any]:
        return [SimpleNamespace(name=name) for name in self.offered]

    def may_call(self, tool: str) -> bool:
        return tool in self.offered


@pytest.mark.parametrize(
    ("message", "expression"),
    [
        ("what is 6*7?", "6*7"),
        ("compute (1 + 2) * 3 please", "(1 + 2) * 3"),
        ("2**10", "2**10"),
        ("I have 3 cats", None),
        ("version 1.2", None),
    ],
)
def test_finds_arithmetic(message: str, expression: str | None) -> None:
    assert find_arithmetic(message) == expression


async def test_thinks_before_each_call_and_before_the_answer() -> None:
    runtime = ScriptedRuntime({"echo": "a", "calculator": 3})
    answer = await EmbeddedAgent().run(
        '/call echo {"text": "a"}\nignored text\n/call calculator {"expression": "1+2"}', runtime
    )
    kinds = [kind for kind, _ in runtime.log]
    assert kinds == ["think", "call", "think", "call", "think"]
    assert answer == "a\n3"


async def test_unparseable_arguments_still_become_a_call() -> None:
    runtime = ScriptedRuntime()
    await EmbeddedAgent().run("/call echo {oops", runtime)
    _, (tool, args) = next(entry for entry in runtime.log if entry[0] == "call")
    assert tool == "echo" and isinstance(args, UnparsedArguments)
    assert "JSON" in args.problem


async def test_time_questions_use_the_clock() -> None:
    runtime = ScriptedRuntime({"clock": {"iso": "2026-01-01T00:00:00+00:00", "tz": "UTC"}})
    answer = await EmbeddedAgent().run("What time is it?", runtime)
    assert ("call", ("clock", {})) in runtime.log
    assert "2026-01-01T00:00:00+00:00" in answer


@pytest.mark.parametrize(("message", "zone"), [
    ("what time is it in Asia/Tokyo?", "Asia/Tokyo"),
    ("The date in America/Argentina/Buenos_Aires, please", "America/Argentina/Buenos_Aires"),
    ("time now (Etc/GMT+9)", "Etc/GMT+9"),
])
async def test_time_questions_naming_a_zone_ask_the_clock_for_it(message: str, zone: str) -> None:
    runtime = ScriptedRuntime({"clock": {"iso": "2026-01-01T09:00:00+09:00", "tz": zone}})
    answer = await EmbeddedAgent().run(message, runtime)
    assert ("call", ("clock", {"tz": zone})) in runtime.log
    assert answer == f"It is 2026-01-01T09:00:00+09:00 ({zone})."


@pytest.mark.parametrize("message", ["what time is it in asia/tokyo?", "time for and/or",
                                     "the time, see docs/Tokyo"])
async def test_time_questions_without_a_zone_name_use_utc(message: str) -> None:
    runtime = ScriptedRuntime({"clock": {"iso": "2026-01-01T00:00:00+00:00", "tz": "UTC"}})
    await EmbeddedAgent().run(message, runtime)
    assert ("call", ("clock", {})) in runtime.log


async def test_other_text_is_echoed_without_tools() -> None:
    runtime = ScriptedRuntime()
    answer = await EmbeddedAgent().run("good morning", runtime)
    assert answer == "You said: good morning"
    assert [kind for kind, _ in runtime.log] == ["think"]


@pytest.mark.parametrize("message", ["what is 6*7?", "What time is it?"])
async def test_the_rules_never_call_a_tool_the_user_may_not_call(message: str) -> None:
    runtime = ScriptedRuntime({"calculator": 42, "clock": {"iso": "x", "tz": "UTC"}},
                              offered=["echo"])
    answer = await EmbeddedAgent().run(message, runtime)
    assert [entry for entry in runtime.log if entry[0] == "call"] == []
    assert answer == f"You said: {message}"


def _turn(message: str, answer: str, result: Any = None, status: str = "ok") -> Turn:
    calls = () if result is None else (ToolCallRecord(
        call_id="c", tool="calculator", args={"expression": "x"}, status="ok", result=result),)
    return Turn(run_id="r", message=message, status="ok" if status == "ok" else "error",
                started_at="t", ended_at="t", answer=answer if status == "ok" else None,
                error=None if status == "ok" else ErrorInfo("agent_error", "x"),
                tool_calls=calls)


async def test_ans_is_the_threads_last_numeric_answer() -> None:
    history = [_turn("what is 1+1?", "1+1 = 2", 2), _turn("what is 6*7?", "6*7 = 42", 42),
               _turn("hello", "You said: hello")]
    runtime = ScriptedRuntime({"calculator": 84}, history=history)
    answer = await EmbeddedAgent().run("ans*2", runtime)
    assert ("call", ("calculator", {"expression": "42*2"})) in runtime.log
    assert answer == "42*2 = 84"


async def test_a_negative_ans_keeps_its_sign() -> None:
    runtime = ScriptedRuntime({"calculator": 9}, history=[_turn("what is 1-4?", "1-4 = -3", -3)])
    await EmbeddedAgent().run("ans*ans", runtime)
    assert ("call", ("calculator", {"expression": "(-3)*(-3)"})) in runtime.log


async def test_failed_turns_give_no_ans() -> None:
    failed = [_turn("what is 6*7?", "", 42, status="error")]
    runtime = ScriptedRuntime({"calculator": 4}, history=failed)
    answer = await EmbeddedAgent().run("what is ans*2?", runtime)
    assert answer == "There is no earlier numeric answer in this thread for `ans` to stand for."
    assert [kind for kind, _ in runtime.log] == ["think"]


async def test_ans_outside_arithmetic_is_plain_text() -> None:
    runtime = ScriptedRuntime()
    assert await EmbeddedAgent().run("ans is a word", runtime) == "You said: ans is a word"


async def test_history_lists_the_earlier_messages_numbered() -> None:
    runtime = ScriptedRuntime(history=[_turn("what is 6*7?", "42"), _turn("ans*2", "84")])
    answer = await EmbeddedAgent().run("/history", runtime)
    assert answer == "1. what is 6*7?\n2. ans*2"
    empty = await EmbeddedAgent().run(" /history ", ScriptedRuntime())
    assert empty == "This thread has no earlier messages."
