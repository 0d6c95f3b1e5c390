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
    """Return issue 12's scope targets, evaluated on these figures."""
    ours = figures[TOOLWIRE]["median"]
    fastest_peer = min(PEERS, key=lambda name: figures[name]["median"])
    peer = figures[fastest_peer]["median"]
    for_user = figures[FOR_USER]["median"]
    return [
        target("`container.request_scope(ctx)` create + close, vs the hand-wired toy",
               "≤ 2.5× the toy", f"{ours:.2f} µs = {ratios[TOOLWIRE]:.1f}× the toy",
               ratios[TOOLWIRE] <= 2.5),
        target("`container.request_scope(ctx)` vs every DI library in the same run",
               "below the fastest peer",
               f"{ours:.2f} µs vs {peer:.2f} µs ({fastest_peer}, {ratios[fastest_peer]:.1f}×)",
               ours < peer),
        # The peers wire the toy classes, toolwire its own (which cost more to build and
        # close): what each adds over building its objects by hand is the like-for-like part.
        target("wiring overhead: `request_scope` minus toolwire's classes by hand, vs each "
               "peer minus the toy",
               "below the fastest peer",
               f"{ours - figures[BY_HAND]['median']:.2f} µs vs "
               f"{peer - figures[TOY]['median']:.2f} µs ({fastest_peer})",
               ours - figures[BY_HAND]["median"] < min(
                   figures[name]["median"] for name in PEERS) - figures[TOY]["median"]),
        target("`UserExecutionContext.for_user(...)`", "≤ 1 µs", f"{for_user:.2f} µs",
               for_user <= 1.0),
    ]
