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
