"""Benchmark 5: a legacy entry point beside the container path it resolves to.

`UnifiedToolDispatcher.create_for_user(ctx)` + `cleanup()` and
`ToolExecutorFactory().create_executor(ctx)` + `cleanup()` each count the call, warn
(DeprecationWarning, filtered out here as Python filters it by default outside `__main__`)
and open `container.request_scope(ctx)` on the current container; the difference from the
scope alone is what the shim costs.
"""

from __future__ import annotations

import warnings
from typing import Any, Final

from benchmarks.config import RunConfig
from benchmarks.scope import bench_settings
from benchmarks.targets import Target, target
from benchmarks.timing import async_timer, interleaved, summaries
from toolwire import UserExecutionContext, create_container
from toolwire.container import use_container
from toolwire.legacy import ToolExecutorFactory, UnifiedToolDispatcher

NAME: Final = "legacy"
SCOPE: Final = "container.request_scope(ctx) create + close"
CREATE_FOR_USER: Final = "UnifiedToolDispatcher.create_for_user(ctx) + cleanup()"
CREATE_EXECUTOR: Final = "ToolExecutorFactory().create_executor(ctx) + cleanup()"


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Time the legacy entry points and the scope, interleaved."""
    iterations = cfg.size(20_000, 2_000)
    repeats = cfg.size(9, 3)
    container = create_container(bench_settings())
    ctx = UserExecutionContext.for_user("bench")

    async def scope() -> None:
        async with container.request_scope(ctx):
            pass

    async def create_for_user() -> None:
        dispatcher = await UnifiedToolDispatcher.create_for_user(ctx)
        await dispatcher.cleanup()

    async def create_executor() -> None:
        executor = await ToolExecutorFactory().create_executor(ctx)
        await executor.cleanup()

    with use_container(container), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        samples = await interleaved(
            {SCOPE: async_timer(scope), CREATE_FOR_USER: async_timer(create_for_user),
             CREATE_EXECUTOR: async_timer(create_executor)},
            iterations=iterations, repeats=repeats, rng=cfg.rng(NAME))
    calls = dict(container.legacy_calls())
    await container.event_bus().aclose()
    figures = summaries(samples)
    base = figures[SCOPE]["median"]
    return {
        "params": {"iterations": iterations, "repeats": repeats},
        "unit": "µs per create + close",
        "figures": figures,
        "ratios": {name: figures[name]["median"] / base for name in figures},
        "legacy_calls_counted": calls,
        "samples": samples,
        "targets": targets(figures, base),
    }


def targets(figures: dict[str, Any], base: float) -> list[Target]:
    """Return the shim's cost beside the scope (issue 12 sets no goal for it)."""
    return [
        target(f"`{name}` vs the scope it opens", "– (reported)",
               f"{figures[name]['median']:.2f} µs vs {base:.2f} µs "
               f"(+{figures[name]['median'] - base:.2f} µs)", None)
        for name in (CREATE_FOR_USER, CREATE_EXECUTOR)
    ]
