"""Benchmark 1: a request scope's create + close, beside hand-wired code and three DI libraries."""

from __future__ import annotations

from typing import Any, Final

from benchmarks import scope_peers
from benchmarks.config import RunConfig
from benchmarks.internals import close_by_hand, hand_builder
from benchmarks.targets import Target, target
from benchmarks.timing import Timer, async_timer, interleaved, summaries, sync_timer
from toolwire import Settings, UserExecutionContext, create_container

NAME: Final = "scope"
TOY: Final = "hand-wired toy"
TOOLWIRE: Final = "toolwire container.request_scope"
BY_HAND: Final = "toolwire classes by hand"
PEERS: Final = ("dependency-injector Factory ×3", "dishka REQUEST scope", "wireup enter_scope")
FOR_USER: Final = "UserExecutionContext.for_user"
WITH_RUN: Final = "request_scope + plain run"


def bench_settings() -> Settings:
    """Return the settings every in-process benchmark uses: the test profile, no .env file."""
    return Settings(_env_file=None, env="test")


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Time every variant, interleaved, and return the figures and targets."""
    iterations = cfg.size(20_000, 2_000)
    repeats = cfg.size(9, 3)
    container = create_container(bench_settings())
    ctx = UserExecutionContext.for_user("bench")
    build = hand_builder(container)

    async def through_container() -> None:
        async with container.request_scope(ctx):
            pass

    async def toolwire_by_hand() -> None:
        await close_by_hand(build(ctx))

    async def scope_and_run() -> None:
        async with container.request_scope(UserExecutionContext.for_user("bench")) as scope:
            await scope.run("hello")

    scopes: dict[str, Timer] = {
        TOY: async_timer(scope_peers.hand_wired(ctx)),
        BY_HAND: async_timer(toolwire_by_hand),
        TOOLWIRE: async_timer(through_container),
        PEERS[0]: async_timer(scope_peers.dependency_injector_factories(ctx)),
        PEERS[1]: async_timer(scope_peers.dishka_request_scope(ctx)),
        PEERS[2]: async_timer(scope_peers.wireup_scope(ctx)),
    }
    others: dict[str, Timer] = {
        FOR_USER: sync_timer(lambda: UserExecutionContext.for_user("bench")),
    }
    with_run: dict[str, Timer] = {WITH_RUN: async_timer(scope_and_run)}
    samples = await interleaved(scopes, iterations=iterations, repeats=repeats,
                                rng=cfg.rng(NAME))
    samples |= await interleaved(others, iterations=iterations, repeats=repeats,
                                 rng=cfg.rng(FOR_USER))
    samples |= await interleaved(with_run, iterations=max(1, iterations // 10),
                                 repeats=repeats, rng=cfg.rng(WITH_RUN))
    await container.event_bus().aclose()
    figures = summaries(samples)
    toy = figures[TOY]["median"]
    ratios = {name: figures[name]["median"] / toy for name in scopes}
    return {
        "params": {"iterations": iterations, "repeats": repeats},
        "unit": "µs per create + close",
        "figures": figures,
        "ratios": ratios,
        "samples": samples,
        "targets": targets(figures, ratios),
    }


def targets(figures: dict[str, Any], ratios: dict[str, float]) -> list[Target]:
    """Return the scope targets, evaluated on these figures.

    The container's providers are resolved by dependency-injector on every scope (an
    override of any provider reaches the next one), so the yardstick is the library itself:
    three plain `Factory` calls on the toy classes, measured in the same run.
    """
    ours = figures[TOOLWIRE]["median"]
    factories = figures[PEERS[0]]["median"]
    for_user = figures[FOR_USER]["median"]
    return [
        target("`container.request_scope(ctx)` create + close, vs dependency-injector's own "
               "three-`Factory` resolution", "≤ 2× Factory ×3",
               f"{ours:.2f} µs = {ours / factories:.2f}× {factories:.2f} µs",
               ours <= 2 * factories),
        target("`UserExecutionContext.for_user(...)`", "≤ 1 µs", f"{for_user:.2f} µs",
               for_user <= 1.0),
    ]
