"""The command line of a benchmark that runs on its own (`python -m benchmarks.NAME`)."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

from benchmarks.config import RunConfig
from benchmarks.processes import REPO_ROOT


def run_standalone(name: str, description: str | None,
                   run: Callable[[RunConfig], Coroutine[Any, Any, dict[str, Any]]],
                   argv: list[str] | None) -> dict[str, Any]:
    """Parse `--quick`/`--seed`, run the benchmark, store `results/[quick/]NAME.json`."""
    parser = argparse.ArgumentParser(prog=f"python -m benchmarks.{name}",
                                     description=description)
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    results = REPO_ROOT / "benchmarks" / "results" / ("quick" if args.quick else "")
    cfg = RunConfig(quick=args.quick, results_dir=results, seed=args.seed)
    result: dict[str, Any] = asyncio.run(run(cfg))
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
