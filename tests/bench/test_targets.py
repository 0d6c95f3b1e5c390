"""Targets are judged on the figures: a ratio over the goal is not met, one under it is."""

from __future__ import annotations

from typing import Any

from tests.bench.stack import require_bench_stack

require_bench_stack()

from benchmarks import delivery, scope  # noqa: E402  (after the skip)
from benchmarks.stats import summarise  # noqa: E402  (after the skip)


def scope_figures(container_us: float, fastest_peer_us: float, for_user_us: float) -> Any:
    medians = {scope.TOY: 2.0, scope.BY_HAND: 3.0, scope.TOOLWIRE: container_us,
               scope.PEERS[0]: fastest_peer_us, scope.PEERS[1]: 20.0, scope.PEERS[2]: 30.0,
               scope.FOR_USER: for_user_us, scope.WITH_RUN: 50.0}
    figures = {name: summarise([value]) for name, value in medians.items()}
    ratios = {name: medians[name] / 2.0 for name in (scope.TOY, scope.BY_HAND, scope.TOOLWIRE,
                                                      *scope.PEERS)}
    return figures, ratios


def test_scope_targets_are_met_at_the_goal_and_missed_past_it() -> None:
    met = scope.targets(*scope_figures(container_us=5.0, fastest_peer_us=2.5, for_user_us=1.0))
    assert [t["met"] for t in met] == [True, True]  # exactly 2× the library's Factory ×3
    missed = scope.targets(*scope_figures(container_us=5.2, fastest_peer_us=2.5,
                                          for_user_us=1.1))
    assert [t["met"] for t in missed] == [False, False]
    assert "2.08× 2.50 µs" in missed[0]["measured"]


def trial(variant: str, mode: str, clients: int, frames_per_s: float, p99: float,
          drops: int = 0) -> dict[str, Any]:
    return {"variant": variant, "mode": mode, "clients": clients, "repeat": 0,
            "command": {"events": 10}, "frames_per_s": frames_per_s,
            "server_us_per_frame": 1e6 / frames_per_s, "cpu_s": {"server": 1.0},
            "unique": 10 - drops, "latency_ms": {"p50": p99 / 2, "p90": p99, "p99": p99,
                                                "p100": p99}, "mean_frame_bytes": 260,
            "drops": drops, "duplicates": 0, "unexpected": 0, "problem_count": 0,
            "expected": 10}


def test_delivery_targets_compare_with_raw_at_the_most_clients() -> None:
    trials = [
        trial(delivery.RAW, delivery.BURST, 10, 1000.0, 1.0),
        trial(delivery.MEMORY, delivery.BURST, 10, 850.0, 1.0),
        trial(delivery.RAW, delivery.BURST, 1, 1000.0, 1.0),
        trial(delivery.MEMORY, delivery.BURST, 1, 100.0, 1.0),  # not the largest count
        trial(delivery.MEMORY, delivery.PACED, 10, 2000.0, 1.2, drops=1),
    ]
    rows = delivery.targets(delivery.summarise_cells(trials), clients=10)
    slower = delivery.targets(delivery.summarise_cells([
        trial(delivery.RAW, delivery.BURST, 10, 1000.0, 1.0),
        trial(delivery.MEMORY, delivery.BURST, 10, 790.0, 1.0),
    ]), clients=10)
    assert slower[0]["met"] is False
    by_figure = {row["figure"]: row for row in rows}
    burst = by_figure["burst, 10 clients, toolwire memory bus: speed vs raw aiohttp "
                      "(raw's server CPU per frame ÷ ours)"]
    assert burst["met"] is True
    assert burst["measured"].startswith("0.85×")
    paced = by_figure["paced 2k ev/s, 10 clients, toolwire memory bus: p99 latency"]
    assert paced["met"] is False
    lost = by_figure["every toolwire trial: drops and duplicates at the client"]
    assert lost["met"] is False
    assert lost["measured"] == "1 dropped, 0 duplicated"


def test_cost_targets_are_judged_against_the_floor() -> None:
    from benchmarks import cost

    def figures(memory: float, redis: float) -> dict[str, Any]:
        return {cost.FLOOR: summarise([100.0]), cost.MEMORY: summarise([memory]),
                cost.REDIS: summarise([redis])}

    assert [t["met"] for t in cost.targets(figures(150.0, 300.0))] == [True, True]
    missed = cost.targets(figures(151.0, 301.0))
    assert [t["met"] for t in missed] == [False, False]
    assert "1.51× 100 µs" in missed[0]["measured"]
