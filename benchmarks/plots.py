"""The PNG plots of BENCHMARKS.md: scope cost per variant, throughput vs clients, latency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter

COLOURS = {"raw aiohttp": "#7f7f7f", "python-socketio": "#9467bd",
           "toolwire memory bus": "#1f77b4", "toolwire Redis bus": "#d62728"}


def scope_cost(result: dict[str, Any], path: Path) -> Path:
    """Plot µs per create + close of each scope variant, with the range over repeats."""
    figures = {name: result["figures"][name] for name in result["ratios"]}
    names = sorted(figures, key=lambda name: figures[name]["median"])
    medians = [figures[n]["median"] for n in names]
    low = [figures[n]["median"] - figures[n]["min"] for n in names]
    high = [figures[n]["max"] - figures[n]["median"] for n in names]
    colours = ["#1f77b4" if n.startswith("toolwire container") else "#aaaaaa" for n in names]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.barh(names, medians, xerr=[low, high], color=colours, capsize=3)
    for y, name in enumerate(names):
        ax.text(figures[name]["max"], y, f"  {figures[name]['median']:.2f} µs", va="center",
                fontsize=8)
    ax.set_xlabel("µs per create + close (median; bars: min–max over repeats)")
    ax.set_title("Request scope: create + close of dispatcher, executor, bridge")
    ax.set_xlim(0, max(f["max"] for f in figures.values()) * 1.3)
    return _save(fig, path)


def throughput(result: dict[str, Any], path: Path) -> Path:
    """Plot burst frames/s and server CPU µs per frame against the client count."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for variant in result["variants"]:
        rows = _rows(result, "burst", variant)
        if not rows:
            continue
        clients = [r["clients"] for r in rows]
        colour = COLOURS.get(variant)
        left.plot(clients, [r["frames_per_s"]["median"] for r in rows], "o-", label=variant,
                  color=colour)
        right.plot(clients, [r["server_us_per_frame"]["median"] for r in rows], "o-",
                   label=variant, color=colour)
    for ax in (left, right):
        _clients_axis(ax, result["params"]["clients"])
        ax.set_xlabel("clients (one socket per user)")
        ax.grid(alpha=0.3)
    left.set_ylabel("frames/s received (median)")
    left.set_title("Burst delivery: throughput")
    right.set_ylabel("server CPU µs per frame (median)")
    right.set_yscale("log")
    right.yaxis.set_major_formatter(ScalarFormatter())
    right.set_title("Burst delivery: server cost")
    left.legend(fontsize=8)
    return _save(fig, path)


def latency(result: dict[str, Any], path: Path) -> Path:
    """Plot paced p50 and p99 latency against the client count."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for variant in result["variants"]:
        rows = _rows(result, "paced", variant)
        if not rows:
            continue
        clients = [r["clients"] for r in rows]
        colour = COLOURS.get(variant)
        ax.plot(clients, [r["latency_p99_ms"]["median"] for r in rows], "o-", color=colour,
                label=f"{variant} p99")
        ax.plot(clients, [r["latency_p50_ms"]["median"] for r in rows], "o--", color=colour,
                alpha=0.6, label=f"{variant} p50")
    ax.axhline(1.0, color="black", lw=0.8, ls=":", label="target p99 1 ms")
    _clients_axis(ax, result["params"]["clients"])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("clients (2 000 events/s in all)")
    ax.set_ylabel("ms from production to arrival")
    ax.set_title("Paced delivery: latency percentiles")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def _clients_axis(ax: Any, clients: list[int]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(clients, [str(c) for c in clients])
    ax.minorticks_off()


def _rows(result: dict[str, Any], mode: str, variant: str) -> list[dict[str, Any]]:
    rows = [c for c in result["cells"] if c["mode"] == mode and c["variant"] == variant]
    return sorted(rows, key=lambda r: r["clients"])


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
