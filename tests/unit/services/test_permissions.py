"""Tool permissions: a user sees and calls only tools whose scopes their token grants."""

from __future__ import annotations

import pytest

from tests.unit.fakes import ListSink
from toolwire.services.context import UserExecutionContext
from toolwire.services.dispatcher import ToolDispatcher
from toolwire.services.executor import ToolExecutor
from toolwire.services.tools.builtin import builtin_tools
from toolwire.services.tools.permissions import ToolPermissions
from toolwire.services.tools.registry import ToolRegistry
from toolwire.services.tools.spec import tool

RAN: list[str] = []


@tool(name="refund", description="Refund an order.", scopes=["billing", "write"])
def refund(order: str) -> str:
    RAN.append(order)
    return f"refunded {order}"


def scope_for(scopes: set[str], configured: dict[str, list[str]] | None = None,
              ) -> tuple[ToolDispatcher, ListSink]:
    sink = ListSink(UserExecutionContext.for_user("ann", scopes=scopes))
    executor = ToolExecutor(
        user_context=sink.ctx, sink=sink,
        registry=ToolRegistry([*builtin_tools(sleep_enabled=True), refund]),
        permissions=ToolPermissions(configured or {}))
    return ToolDispatcher(user_context=sink.ctx, executor=executor), sink


def test_the_decorator_keeps_the_scopes_and_checks_them() -> None:
    assert refund.scopes == frozenset({"billing", "write"})
    for bad in ("billing", ["two words"], [""], [3]):
        with pytest.raises(ValueError, match="scopes"):
            tool(name="x", scopes=bad)(lambda: None)  # type: ignore[arg-type]


async def test_a_user_without_every_scope_neither_sees_nor_runs_the_tool() -> None:
    RAN.clear()
    dispatcher, sink = scope_for({"billing"})
    assert "refund" not in [spec.name for spec in dispatcher.tools()]
    outcome = await dispatcher.dispatch("refund", {"order": "o-1"})
    assert outcome.status == "error" and outcome.error is not None
    assert outcome.error.type == "forbidden" and "billing, write" in outcome.error.message
    assert RAN == []
    assert sink.types() == ["tool_executing", "tool_completed"]


async def test_forbidden_comes_before_argument_checks() -> None:
    dispatcher, _ = scope_for(set())
    outcome = await dispatcher.dispatch("refund", {"no": "such argument"})
    assert outcome.error is not None and outcome.error.type == "forbidden"


async def test_a_user_with_the_scopes_sees_and_runs_it() -> None:
    RAN.clear()
    dispatcher, _ = scope_for({"billing", "write", "other"})
    assert "refund" in [spec.name for spec in dispatcher.tools()]
    outcome = await dispatcher.dispatch("refund", {"order": "o-2"})
    assert outcome.ok and outcome.result == "refunded o-2" and RAN == ["o-2"]


async def test_configuration_replaces_a_tools_own_scopes() -> None:
    configured = {"sleep": ["admin"], "refund": []}
    dispatcher, _ = scope_for(set(), configured)
    names = [spec.name for spec in dispatcher.tools()]
    assert "refund" in names and "sleep" not in names and "echo" in names
    outcome = await dispatcher.dispatch("sleep", {"seconds": 0})
    assert outcome.error is not None and outcome.error.type == "forbidden"
    admin, _ = scope_for({"admin"}, configured)
    assert (await admin.dispatch("sleep", {"seconds": 0})).ok


def test_required_and_visible() -> None:
    permissions = ToolPermissions({"echo": ["ops"]})
    specs = [*builtin_tools(sleep_enabled=False), refund]
    assert permissions.required(refund) == {"billing", "write"}
    echo = next(spec for spec in specs if spec.name == "echo")
    assert permissions.required(echo) == {"ops"} and echo.scopes == frozenset()
    visible = permissions.visible(specs, frozenset({"ops"}))
    assert [s.name for s in visible] == ["calculator", "clock", "echo"]


def test_may_call_refuses_only_a_known_tool_the_user_lacks_scopes_for() -> None:
    dispatcher, _ = scope_for({"billing"})
    assert not dispatcher.may_call("refund")
    assert dispatcher.may_call("echo")
    assert dispatcher.may_call("no_such_tool")  # calling it reports unknown_tool
    allowed, _ = scope_for({"billing", "write"})
    assert allowed.may_call("refund")
