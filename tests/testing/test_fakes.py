"""`fake_tool`: tools for one test, on top of a registry that stays untouched."""

from __future__ import annotations

from pytest_mock import MockerFixture

from toolwire.container import ApplicationContainer
from toolwire.services.context import UserExecutionContext
from toolwire.services.tools.calls import ToolCall
from toolwire.services.tools.spec import tool
from toolwire.testing import FakeToolFactory
from toolwire.testing.fakes import FakeTool


async def call(container: ApplicationContainer, tool: str, **args: object) -> dict[str, object]:
    """Run one tool call in a fresh scope and return its outcome as a dict."""
    async with container.request_scope(UserExecutionContext.for_user("a")) as scope:
        outcome = await scope.executor.execute(ToolCall(tool, dict(args)))
    return {"status": outcome.status, "result": outcome.result,
            "error": outcome.error and outcome.error.to_dict()}


async def test_a_fake_returns_its_result_and_records_calls(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory
) -> None:
    weather = fake_tool("weather", result={"temp": 3}, description="Weather, faked.")
    assert await call(toolwire_container, "weather", city="Oslo") == {
        "status": "ok", "result": {"temp": 3}, "error": None}
    assert weather.calls == [{"city": "Oslo"}]
    assert toolwire_container.tool_registry().get("weather") is weather.spec
    assert weather.spec.description == "Weather, faked."


async def test_a_fake_raises_an_exception_class_or_instance(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory
) -> None:
    fake_tool("down", raises=ConnectionError)
    fake_tool("broken", raises=ValueError("bad input"))
    assert (await call(toolwire_container, "down"))["error"] == {
        "type": "ConnectionError", "message": "ConnectionError"}
    assert (await call(toolwire_container, "broken"))["error"] == {
        "type": "ValueError", "message": "bad input"}


async def test_a_delayed_fake_records_the_call_before_it_times_out(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory
) -> None:
    slow = fake_tool("slow", delay=5, timeout_s=0.02)
    assert (await call(toolwire_container, "slow"))["status"] == "timeout"
    assert slow.call_count == 1


async def test_a_fake_calls_a_sync_or_async_function_with_the_arguments(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory, mocker: MockerFixture
) -> None:
    sync_func, async_func = mocker.Mock(return_value=1), mocker.AsyncMock(return_value=2)
    sync = fake_tool("sync", func=sync_func)
    asynchronous = fake_tool("async", func=async_func)
    assert (await call(toolwire_container, "sync", x=1))["result"] == 1
    assert (await call(toolwire_container, "async", y=2))["result"] == 2
    sync_func.assert_called_once_with(x=1)
    async_func.assert_awaited_once_with(y=2)
    assert sync.func is sync_func and asynchronous.func is async_func


async def test_a_fake_of_a_real_tool_keeps_its_argument_validation(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory
) -> None:
    fake_tool("echo", result="faked")
    assert (await call(toolwire_container, "echo", text="hi"))["result"] == "faked"
    error = (await call(toolwire_container, "echo", txt="hi"))["error"]
    assert isinstance(error, dict) and error["type"] == "invalid_arguments"


async def test_the_real_registry_is_never_changed(
    toolwire_container: ApplicationContainer, fake_tool: FakeToolFactory
) -> None:
    real = toolwire_container.tool_registry()
    real_echo = real.get("echo")
    fake_tool("echo", result="faked")
    fake_tool("weather")
    assert real.get("echo") is real_echo
    assert "weather" not in real
    assert toolwire_container.tool_registry() is not real


def test_a_fake_of_a_scoped_tool_keeps_its_scopes() -> None:
    @tool(name="refund", scopes=["billing"])
    def refund(order: str) -> str:
        return order

    assert FakeTool("refund", shadows=refund, result="ok").spec.scopes == {"billing"}
    assert FakeTool("refund", result="ok").spec.scopes == frozenset()
