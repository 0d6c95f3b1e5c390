"""Time variants side by side: interleaved in a shuffled order per repeat, medians and spread."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Awaitable, Callable, Mapping

from benchmarks.stats import Summary, summarise

Timer = Callable[[int], Awaitable[float]]
"""Runs its body `n` times and returns the seconds it took."""


def async_timer(body: Callable[[], Awaitable[object]]) -> Timer:
    """Return a timer of an async body (awaited `n` times in a plain loop)."""

    async def timer(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await body()
        return time.perf_counter() - started

    return timer


def sync_timer(body: Callable[[], object]) -> Timer:
    """Return a timer of a plain function (called `n` times in a plain loop)."""

    async def timer(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            body()
        return time.perf_counter() - started

    return timer


async def interleaved(
    timers: Mapping[str, Timer], *, iterations: int, repeats: int, rng: random.Random
) -> dict[str, list[float]]:
    """Return µs per iteration of every variant, one sample per repeat.

    Each repeat runs every variant once, in a fresh random order, so a burst of load from
    elsewhere on the machine lands on all variants alike instead of on whichever ran then.
    """
    for timer in timers.values():  # warm-up: caches, lazy imports, the allocator
        await timer(max(1, iterations // 10))
    samples: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(repeats):
        order = list(timers)
        rng.shuffle(order)
        for name in order:
            gc.collect()
            seconds = await timers[name](iterations)
            samples[name].append(seconds / iterations * 1e6)
    return samples


def summaries(samples: Mapping[str, list[float]]) -> dict[str, Summary]:
    """Return the summary of each variant's samples."""
    return {name: summarise(values) for name, values in samples.items()}
