"""Benchmark 7: what tracing costs a run, off (as shipped without `OTEL_*`) and on.

Three variants, interleaved: a whole run through the container (`request_scope(ctx)` +
`scope.run(...)`, the embedded agent making one tool call) with tracing off; the same run
with OpenTelemetry on (spans through the SDK into an exporter that drops them, so the
figure is toolwire's and the SDK's work, not a network's); and the tracing-off hooks of one
such run alone (open the run's trace, one tool call's start and end, one model request, end
the run), which is all that tracing off adds to a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from benchmarks.config import RunConfig
from benchmarks.scope import bench_settings
from benchmarks.targets import Target, target
from benchmarks.timing import async_timer, interleaved, summaries, sync_timer
from toolwire import UserExecutionContext, create_container
from toolwire.adapters.tracing import Tracing
from toolwire.adapters.tracing.otel import OtelTracing

NAME: Final = "tracing"
OFF: Final = "run, tracing off"
ON: Final = "run, tracing on (spans dropped by the exporter)"
HOOKS: Final = "tracing-off hooks of one run"
MESSAGE: Final = "what is 6*7?"  # the embedded agent calls `calculator` once


class Dropping(SpanExporter):
    """Takes every span and keeps none."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Time a run with tracing off and on, and the off hooks alone, interleaved."""
    iterations = cfg.size(2_000, 200)
    repeats = cfg.size(9, 3)
    off = create_container(bench_settings())
    on = create_container(bench_settings())
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Dropping()))
    on.tracing.override(providers.Object(OtelTracing(provider)))
    hooks = Tracing()
    ctx = UserExecutionContext.for_user("bench")

    def one_run(container: Any) -> Any:
        async def body() -> None:
            async with container.request_scope(UserExecutionContext.for_user("bench")) as scope:
                await scope.run(MESSAGE)
        return body

    def off_hooks() -> None:
        trace = hooks.run(ctx, "embedded")
        trace.tool_started("calculator", "call-1")
        trace.tool_ended("call-1", "ok", None)
        with hooks.model_request("model") as request:
            request.usage(10, 20)
        trace.ended("ok", None)

    samples = await interleaved(
        {OFF: async_timer(one_run(off)), ON: async_timer(one_run(on))},
        iterations=iterations, repeats=repeats, rng=cfg.rng(NAME))
    samples |= await interleaved({HOOKS: sync_timer(off_hooks)}, iterations=iterations * 10,
                                 repeats=repeats, rng=cfg.rng(HOOKS))
    for container in (off, on):
        await container.event_bus().aclose()
    on.tracing().shutdown()
    figures = summaries(samples)
    base = figures[OFF]["median"]
    return {
        "params": {"iterations": iterations, "repeats": repeats},
        "unit": "µs per run",
        "figures": figures,
        "ratios": {name: figures[name]["median"] / base for name in figures},
        "samples": samples,
        "targets": targets(figures),
    }


def targets(figures: dict[str, Any]) -> list[Target]:
    """Return the tracing-off cost as a share of a run, and what turning tracing on costs."""
    run_us, hooks_us, on_us = (figures[name]["median"] for name in (OFF, HOOKS, ON))
    share = hooks_us / run_us
    return [
        target("tracing off: its hooks in one run, vs the run", "< 1 % of a run",
               f"{hooks_us:.2f} µs = {share:.2%} of {run_us:.0f} µs", share < 0.01),
        target("tracing on: a run with its spans", "– (reported)",
               f"{on_us:.0f} µs = {on_us / run_us:.2f}× off", None),
    ]
