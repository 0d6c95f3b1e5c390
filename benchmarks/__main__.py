"""`python -m benchmarks [--quick] [--only NAME]`: run, store results, regenerate BENCHMARKS.md."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from benchmarks import (
    checker,
    cost,
    delivery,
    legacy,
    machine,
    memory,
    report,
    schemas,
    scope,
    tracing,
    users,
)
from benchmarks.config import RunConfig
from benchmarks.processes import REPO_ROOT
from benchmarks.results import read_results, write_result

Benchmark = Callable[[RunConfig], Awaitable[dict[str, Any]]]

BENCHMARKS: Final[dict[str, Benchmark]] = {
    scope.NAME: scope.run,
    legacy.NAME: legacy.run,
    memory.NAME: memory.run,
    checker.NAME: checker.run,
    users.NAME: users.run,
    delivery.NAME: delivery.run,
    cost.NAME: cost.run,
    tracing.NAME: tracing.run,
    schemas.NAME: schemas.run,
}
RESULTS: Final = REPO_ROOT / "benchmarks" / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="tiny smoke run (what CI runs); writes under results/quick/")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--results", type=Path, default=None,
                        help="directory for the JSON results and plots "
                             "(default: benchmarks/results, or benchmarks/results/quick)")
    parser.add_argument("--report", type=Path, default=None,
                        help="the page to regenerate (default: BENCHMARKS.md at the repository "
                             "root, or BENCHMARKS.md in the results directory with --quick)")
    parser.add_argument("--seed", type=int, default=12, help="seed of the interleaving order")
    return parser.parse_args(argv)


async def run_one(name: str, cfg: RunConfig) -> dict[str, Any]:
    """Run benchmark `name` and return its result with the machine and timing around it."""
    about = machine.describe()
    started = time.monotonic()
    result = await BENCHMARKS[name](cfg)
    return {"name": name, "quick": cfg.quick, "machine": about,
            "started": datetime.now(UTC).isoformat(), "duration_s": time.monotonic() - started,
            **result}


def stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so the servers a benchmark started are stopped."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, write their results, regenerate the page; 1 if any failed."""
    args = parse_args(argv)
    stop_on_sigterm()
    results_dir = args.results or (RESULTS / "quick" if args.quick else RESULTS)
    page = args.report or (results_dir / "BENCHMARKS.md" if args.quick
                           else REPO_ROOT / "BENCHMARKS.md")
    cfg = RunConfig(quick=args.quick, results_dir=results_dir, seed=args.seed)
    failed = []
    for name in args.only or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            result = asyncio.run(run_one(name, cfg))
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        write_result(results_dir, name, result)
        for row in result["targets"]:
            print(f"   {row['figure']}: {row['measured']} (target {row['target']})")
        print(f"   done in {time.monotonic() - started:.0f} s", flush=True)
    stored = read_results(results_dir)
    if stored:
        images = report.Images(directory=results_dir, page=page)
        page.write_text(report.render(stored, images), encoding="utf-8")
        print(f"wrote {page}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
