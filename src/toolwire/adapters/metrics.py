"""`Metrics`: toolwire's Prometheus metrics, in a registry of their own per container."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from toolwire.adapters.memory.threads import InMemoryThreadStore
from toolwire.services.ports import ThreadStore


class _LegacyCallsCollector(Collector):
    """Reads the container's per-entry-point count of deprecated factory calls at scrape time."""

    def __init__(self, calls: Mapping[str, int]) -> None:
        self._calls = calls

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "toolwire_legacy_calls", "Calls of deprecated factory entry points",
            labels=["entry_point"],
        )
        for entry_point, count in sorted(self._calls.items()):
            family.add_metric([entry_point], count)
        yield family


ThreadStats = Callable[[], tuple[int, int] | None]
"""Returns `(threads, bytes)` a thread store keeps, or None when it cannot tell cheaply."""

HISTORY_BUCKETS = (0, 1024, 4096, 16384, 65536, 131072, 262144, 1048576)


def thread_stats_of(store: ThreadStore) -> ThreadStats | None:
    """Return what counts the store's threads: the memory store's own count; none for Redis
    (counting there means scanning every key)."""
    return store.stats if isinstance(store, InMemoryThreadStore) else None


class _ThreadsCollector(Collector):
    """Reads how many threads (and bytes) the thread store keeps, at scrape time."""

    def __init__(self, stats: ThreadStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self._stats()
        if stats is None:
            return
        threads, size = stats
        yield GaugeMetricFamily("toolwire_threads_stored", "Threads the store keeps", threads)
        yield GaugeMetricFamily("toolwire_threads_stored_bytes",
                                "Bytes of turns the store keeps, as its bounds count them", size)


class Metrics:
    """Run, socket and legacy-call metrics; `render()` gives the Prometheus text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, *, legacy_calls: Mapping[str, int] | None = None,
                 thread_stats: ThreadStats | None = None) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("toolwire_runs", "Agent runs that ended, by status", ["status"],
                            registry=self.registry)
        self.runs_active = Gauge("toolwire_runs_active", "Agent runs going now",
                                 registry=self.registry)
        self.sockets_open = Gauge("toolwire_sockets_open", "Open WebSocket connections",
                                  registry=self.registry)
        self.history_bytes = Histogram(
            "toolwire_history_bytes", "Bytes of earlier turns (JSON) an agent saw, per run",
            buckets=HISTORY_BUCKETS, registry=self.registry)
        if legacy_calls is not None:
            self.registry.register(_LegacyCallsCollector(legacy_calls))
        if thread_stats is not None:
            self.registry.register(_ThreadsCollector(thread_stats))

    def run_started(self) -> None:
        """Count a run that has started."""
        self.runs_active.inc()

    def run_ended(self, status: str) -> None:
        """Count a run that has ended with `status` (ok, error, cancelled)."""
        self.runs_active.dec()
        self.runs.labels(status).inc()

    def history_seen(self, size: int) -> None:
        """Count the bytes of history one run's agent saw."""
        self.history_bytes.observe(size)

    def render(self) -> bytes:
        """Return every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)
