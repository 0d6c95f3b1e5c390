"""`Metrics`: toolwire's Prometheus metrics, in a registry of their own per container."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector


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


class Metrics:
    """Run, socket and legacy-call metrics; `render()` gives the Prometheus text format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, *, legacy_calls: Mapping[str, int] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("toolwire_runs", "Agent runs that ended, by status", ["status"],
                            registry=self.registry)
        self.runs_active = Gauge("toolwire_runs_active", "Agent runs going now",
                                 registry=self.registry)
        self.sockets_open = Gauge("toolwire_sockets_open", "Open WebSocket connections",
                                  registry=self.registry)
        if legacy_calls is not None:
            self.registry.register(_LegacyCallsCollector(legacy_calls))

    def run_started(self) -> None:
        """Count a run that has started."""
        self.runs_active.inc()

    def run_ended(self, status: str) -> None:
        """Count a run that has ended with `status` (ok, error, cancelled)."""
        self.runs_active.dec()
        self.runs.labels(status).inc()

    def render(self) -> bytes:
        """Return every metric in the Prometheus text exposition format."""
        return generate_latest(self.registry)
