"""The container's metrics see runs in its scopes and calls of its legacy entry points."""

from __future__ import annotations

from toolwire.container import ApplicationContainer
from toolwire.legacy import ToolExecutorFactory
from toolwire.services.context import UserExecutionContext


async def test_scopes_and_legacy_calls_are_counted(quiet: ApplicationContainer) -> None:
    async with quiet.request_scope(UserExecutionContext.for_user("ada")) as scope:
        await scope.run("hello")
    executor = await ToolExecutorFactory().create_executor("ada")
    await executor.cleanup()
    text = quiet.metrics().render().decode()
    assert 'toolwire_runs_total{status="ok"} 1.0' in text
    assert "toolwire_legacy_calls_total{" in text
    assert "ToolExecutorFactory" in text
