"""Outside test projects, run with pytester, use every fixture of the `toolwire` plugin."""

from __future__ import annotations

import sys

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

HELPERS = """
from toolwire import UserExecutionContext


async def run(container, message, user="alice"):
    ctx = UserExecutionContext.for_user(user)
    async with container.request_scope(ctx) as scope:
        final = await scope.run(message)
    return ctx.run_id, final
"""

EVERY_FIXTURE = """
import sys

import pytest
from dependency_injector import providers

from runs import run
from toolwire import ToolOutcome
from toolwire.legacy import ToolExecutorFactory
from toolwire.services.executor import ToolExecutor

CALL = ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed"]


@pytest.mark.toolwire_settings(runs={"max_tool_calls": 3})
def test_settings_are_the_test_profile_plus_the_marker(toolwire_settings, toolwire_container):
    assert toolwire_settings.env == "test"
    assert toolwire_settings.runs.max_tool_calls == 3
    assert toolwire_container.settings() is toolwire_settings


async def test_fake_tool_result_is_recorded_with_its_events(
    toolwire_container, fake_tool, toolwire_events
):
    weather = fake_tool("weather", result={"temp": 3})
    run_id, final = await run(toolwire_container, '/call weather {"city": "Oslo"}')
    assert final.status == "ok"
    assert weather.calls == [{"city": "Oslo"}]
    assert toolwire_events.runs() == [run_id]
    toolwire_events.assert_well_formed(run_id)
    toolwire_events.assert_sequence(run_id, CALL)
    assert toolwire_events.events(run_id)[3].data["result"] == {"temp": 3}


async def test_fake_tools_raise_and_time_out(toolwire_container, fake_tool, toolwire_events):
    fake_tool("broken", raises=RuntimeError("down"))
    slow = fake_tool("slow", delay=5, timeout_s=0.05)
    run_id, _ = await run(toolwire_container, "/call broken {}\\n/call slow {}")
    done = [e.data for e in toolwire_events.events(run_id) if e.type == "tool_completed"]
    assert [d["status"] for d in done] == ["error", "timeout"]
    assert done[0]["error"] == {"type": "RuntimeError", "message": "down"}
    assert slow.call_count == 1


async def test_a_fake_replaces_a_builtin_tool_and_keeps_its_arguments(
    toolwire_container, fake_tool, mocker
):
    calculator = fake_tool("calculator", func=mocker.Mock(return_value=5))
    _, final = await run(toolwire_container, "what is 2+2?")
    assert final.answer == "2+2 = 5"
    calculator.func.assert_called_once_with(expression="2+2")
    _, bad = await run(toolwire_container, '/call calculator {"expr": "1"}')
    assert "invalid_arguments" in bad.answer


async def test_override_the_executor_with_a_mock(toolwire_container, toolwire_override, mocker):
    executor = mocker.AsyncMock(spec=ToolExecutor)
    executor.execute.return_value = ToolOutcome(
        tool="calculator", call_id="c1", status="ok", duration_ms=1.0, result=99)
    toolwire_override(executor=executor)
    _, final = await run(toolwire_container, "what is 2+2?")
    assert final.answer == "2+2 = 99"
    executor.execute.assert_awaited_once()


async def test_override_as_a_context_manager_and_patch_object(
    toolwire_container, toolwire_override, mocker
):
    class Quiet:
        name = "quiet"

        async def run(self, message, runtime):
            return "shh"

    with toolwire_override(agent=providers.Factory(Quiet)):
        _, inside = await run(toolwire_container, "hello")
    _, after = await run(toolwire_container, "hello")
    assert (inside.answer, after.answer) == ("shh", "You said: hello")
    mocker.patch.object(ToolExecutor, "timeout_for", return_value=0.01)
    _, final = await run(toolwire_container, '/call sleep {"seconds": 5}')
    assert final.answer == "sleep failed: sleep took longer than 0.01 s (timeout)"


async def test_legacy_entry_points_resolve_through_the_test_container(
    toolwire_container, fake_tool, toolwire_events
):
    fake_tool("weather", result="sunny")
    with pytest.deprecated_call():
        executor = await ToolExecutorFactory().create_executor("alice")
    async with executor:
        outcome = await executor.execute_tool("weather", {"city": "Oslo"})
    assert outcome.result == "sunny"
    assert toolwire_container.legacy_calls()["ToolExecutorFactory.create_executor"] == 1
    assert toolwire_events.types() == ["tool_executing", "tool_completed"]


async def test_client_chat_returns_the_run_and_sockets_stay_isolated(
    toolwire_client, toolwire_events
):
    bob = await toolwire_client.ws("bob")
    events = await toolwire_client.chat("alice", "what is 6*7?")
    assert [e["type"] for e in events] == CALL
    assert events[-1]["data"]["answer"] == "6*7 = 42"
    toolwire_events.assert_well_formed(events[0]["run_id"])
    await bob.send_json({"type": "ping"})
    assert await bob.receive_json(timeout=5) == {"type": "pong"}
    toolwire_events.assert_isolated()


async def test_container_factory_builds_more_containers(toolwire_container_factory):
    other = toolwire_container_factory(events={"backend": "redis"})
    assert type(other.event_bus()).__name__ == "RedisEventBus"
"""

WRONG_SEQUENCE = """
from runs import run


async def test_expects_a_tool_call(toolwire_container, toolwire_events):
    run_id, _ = await run(toolwire_container, "hello")
    toolwire_events.assert_sequence(run_id, ["agent_started", "tool_executing", "agent_completed"])
"""

FAILING_THEN_CLEAN = """
from toolwire.container import get_container
from toolwire.services.executor import ToolExecutor
from runs import run

seen = []


async def test_1_overrides_everything_then_fails(
    toolwire_container, toolwire_override, fake_tool, toolwire_events, mocker
):
    real_bus = toolwire_container.event_bus().inner  # under toolwire_events' recorder
    assert await real_bus.ping()
    seen.extend([toolwire_container, real_bus])
    toolwire_override(executor=mocker.AsyncMock(spec=ToolExecutor))
    fake_tool("weather", result=1)
    assert get_container() is toolwire_container
    assert False, "this test fails on purpose"


async def test_2_sees_the_real_providers(toolwire_container, toolwire_events):
    failed, its_bus = seen
    assert all(not p.overridden for name, p in failed.providers.items() if name != "settings")
    assert not await its_bus.ping()  # closed
    assert failed.event_bus() is not its_bus  # singletons reset
    assert toolwire_container is not failed
    assert get_container() is toolwire_container
    run_id, final = await run(toolwire_container, '/call weather {}\\n/call echo {"text": "x"}')
    done = [e.data for e in toolwire_events.events(run_id) if e.type == "tool_completed"]
    assert done[0]["error"]["type"] == "unknown_tool"
    assert done[1]["result"] == "x"


def test_3_the_current_container_is_put_back():
    assert get_container() is not seen[0]
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty outside project: an ini like a user's and a helper module."""
    pytester.makeini(INI)
    pytester.makepyfile(runs=HELPERS)
    return pytester


def test_a_project_using_every_fixture_passes(project: pytest.Pytester) -> None:
    project.makepyfile(test_every_fixture=EVERY_FIXTURE)
    result = project.runpytest()
    result.assert_outcomes(passed=9)


def test_a_wrong_sequence_fails_with_the_run_as_a_table(project: pytest.Pytester) -> None:
    project.makepyfile(test_wrong=WRONG_SEQUENCE)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*event types differ*",
        "E *seq  type             tool  status",
        "E *1    agent_started",
        "E *2    agent_thinking",
        "E *3    agent_completed        ok",
        "*- toolwire events -*",
    ])
    assert "RunEvent(" not in result.stdout.str()


def test_overrides_are_undone_after_a_failing_test(project: pytest.Pytester) -> None:
    project.makepyfile(test_order=FAILING_THEN_CLEAN)
    result = project.runpytest()
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines(["*this test fails on purpose*"])


def test_the_plugin_can_be_disabled(project: pytest.Pytester) -> None:
    project.makepyfile(test_off="def test_needs_it(toolwire_container):\n    pass\n")
    result = project.runpytest("-p", "no:toolwire")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'toolwire_container' not found*"])


BLOCK_PYTEST_AIOHTTP = """
import sys

sys.modules["pytest_aiohttp"] = None  # as if pytest-aiohttp were not installed
import sys

import pytest

sys.exit(pytest.main(["-p", "no:aiohttp", "-p", "no:cacheprovider", "--assert=plain"]))
"""

WITHOUT_EXTRAS = """
def test_unrelated():
    pass


def test_needs_toolwire(toolwire_container):
    pass
"""


def test_without_the_testing_extra_only_toolwire_fixtures_fail_and_say_why(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain=WITHOUT_EXTRAS)
    script = pytester.makepyfile(run_blocked=BLOCK_PYTEST_AIOHTTP)
    result = pytester.run(sys.executable, str(script))
    assert ("the toolwire_container fixture needs pytest_aiohttp: "
            "pip install 'toolwire[testing]'") in result.stdout.str()
    result.stdout.fnmatch_lines(["*1 passed, 1 error*"])
