"""`Metrics` renders runs and legacy calls in the Prometheus text format."""

from __future__ import annotations

from collections import Counter

from toolwire.adapters.metrics import Metrics


def test_runs_by_status_and_active_runs() -> None:
    metrics = Metrics()
    for status in ("ok", "ok", "error"):
        metrics.run_started()
        metrics.run_ended(status, 0.5)
    metrics.run_started()
    text = metrics.render().decode()
    assert 'toolwire_runs_total{status="ok"} 2.0' in text
    assert 'toolwire_runs_total{status="error"} 1.0' in text
    assert "toolwire_runs_active 1.0" in text


def test_legacy_calls_are_read_at_scrape_time() -> None:
    calls: Counter[str] = Counter()
    metrics = Metrics(legacy_calls=calls)
    assert "toolwire_legacy_calls_total{" not in metrics.render().decode()
    calls["create_agent_websocket_bridge"] += 3
    text = metrics.render().decode()
    assert 'toolwire_legacy_calls_total{entry_point="create_agent_websocket_bridge"} 3.0' in text


def test_two_containers_keep_separate_counts() -> None:
    one, two = Metrics(), Metrics()
    one.run_started()
    one.run_ended("ok", 0.5)
    assert 'status="ok"' not in two.render().decode()


def test_tokens_by_kind_and_the_duration_histograms() -> None:
    metrics = Metrics()
    assert 'toolwire_model_tokens_total{kind="input"} 0.0' in metrics.render().decode()
    metrics.model_usage(120, 30)
    metrics.model_usage(80, 12)
    metrics.run_started()
    metrics.run_ended("cancelled", 2.0)
    metrics.tool_call_ended("calculator", 0.003)
    text = metrics.render().decode()
    assert 'toolwire_model_tokens_total{kind="input"} 200.0' in text
    assert 'toolwire_model_tokens_total{kind="output"} 42.0' in text
    assert 'toolwire_run_duration_seconds_bucket{le="2.5",status="cancelled"} 1.0' in text
    assert 'toolwire_run_duration_seconds_bucket{le="1.0",status="cancelled"} 0.0' in text
    assert 'toolwire_tool_call_duration_seconds_bucket{le="0.005",tool="calculator"} 1.0' in text
