"""Every scope variant builds the same graph for the context it is given, and closes it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.bench.stack import require_bench_stack

require_bench_stack()

from benchmarks import scope_peers  # noqa: E402  (after the skip)
from benchmarks.scope_peers import Body, ToyDispatcher  # noqa: E402  (after the skip)
from toolwire import UserExecutionContext  # noqa: E402  (after the skip)

VARIANTS = [scope_peers.hand_wired, scope_peers.dependency_injector_factories,
            scope_peers.dishka_request_scope, scope_peers.wireup_scope]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.__name__)
async def test_each_request_gets_its_own_objects_for_its_context_on_shared_singletons(
    variant: Callable[[UserExecutionContext], Body], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[ToyDispatcher] = []
    real_close_all = scope_peers.close_all

    async def record(dispatcher: ToyDispatcher) -> None:
        closed.append(dispatcher)
        await real_close_all(dispatcher)

    monkeypatch.setattr(scope_peers, "close_all", record)
    ctx = UserExecutionContext.for_user("ada")
    body = variant(ctx)
    await body()
    await body()
    first, second = closed
    for dispatcher in closed:
        executor = dispatcher.executor
        assert dispatcher.user_context is ctx
        assert executor.user_context is ctx
        assert executor.sink.user_context is ctx
    assert first is not second
    assert first.executor is not second.executor
    assert first.executor.sink is not second.executor.sink
    assert first.executor.registry is second.executor.registry  # app-wide
    assert first.executor.sink.bus is second.executor.sink.bus  # app-wide


def test_the_toy_builder_builds_the_same_graph() -> None:
    ctx = UserExecutionContext.for_user("ada")
    build = scope_peers.toy_builder()
    one, two = build(ctx), build(ctx)
    assert one.executor.sink.user_context is ctx
    assert one.executor is not two.executor
    assert one.executor.sink.bus is two.executor.sink.bus
