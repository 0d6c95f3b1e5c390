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


RUN_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TOOL_BUCKETS_S = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNKNOWN_TOOL = "(unknown)"
"""The `tool` label of calls of a tool that does not exist: model-chosen names stay unbounded."""

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
    """Run, model, tool, socket and legacy-call metrics; `render()` gives the text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, *, legacy_calls: Mapping[str, int] | None = None,
                 thread_stats: ThreadStats | None = None) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("toolwire_runs", "Agent runs that ended, by status", ["status"],
                            registry=self.registry)
        self.runs_active = Gauge("toolwire_runs_active", "Agent runs going now",
                                 registry=self.registry)
        self.run_duration = Histogram(
            "toolwire_run_duration_seconds", "How long agent runs took, by status", ["status"],
            buckets=RUN_BUCKETS_S, registry=self.registry)
        self.model_tokens = Counter(
            "toolwire_model_tokens", "Tokens the models reported, by kind (input, output)",
            ["kind"], registry=self.registry)
        for kind in ("input", "output"):
            self.model_tokens.labels(kind)
        self.tool_call_duration = Histogram(
            "toolwire_tool_call_duration_seconds", "How long tool calls took, by tool",
            ["tool"], buckets=TOOL_BUCKETS_S, registry=self.registry)
        self.sockets_open = Gauge("toolwire_sockets_open", "Open WebSocket connections",
                                  registry=self.registry)
        self.history_bytes = Histogram(
            "toolwire_history_bytes", "Bytes of earlier turns (JSON) an agent saw, per run",
            buckets=HISTORY_BUCKETS, registry=self.registry)
        # A label lookup costs a lock and a dict; each run would pay three.
        self._by_status: dict[str, tuple[Counter, Histogram]] = {}
        self._by_tool: dict[str, Histogram] = {}
        if legacy_calls is not None:
            self.registry.register(_LegacyCallsCollector(legacy_calls))
        if thread_stats is not None:
            self.registry.register(_ThreadsCollector(thread_stats))

    def run_started(self) -> None:
        """Count a run that has started."""
        self.runs_active.inc()

    def run_ended(self, status: str, duration_s: float) -> None:
        """Count a run that has ended with `status` (ok, error, cancelled) after `duration_s`."""
        self.runs_active.dec()
        children = self._by_status.get(status)
        if children is None:
            children = self._by_status[status] = (
                self.runs.labels(status), self.run_duration.labels(status))
        children[0].inc()
        children[1].observe(duration_s)

    def model_usage(self, input_tokens: int, output_tokens: int) -> None:
        """Count the tokens a model reported for one request."""
        self.model_tokens.labels("input").inc(input_tokens)
        self.model_tokens.labels("output").inc(output_tokens)

    def tool_call_ended(self, tool: str, duration_s: float) -> None:
        """Time one tool call of `tool` (`UNKNOWN_TOOL` for a name no tool has)."""
        child = self._by_tool.get(tool)
        if child is None:
            child = self._by_tool[tool] = self.tool_call_duration.labels(tool)
        child.observe(duration_s)

    def history_seen(self, size: int) -> None:
        """Count the bytes of history one run's agent saw."""
        self.history_bytes.observe(size)

    def render(self) -> bytes:
        """Return every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)
