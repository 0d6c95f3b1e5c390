"""Benchmark 6: `toolwire check` on a generated tree of about 10 000 lines.

The tree holds modules of plain code with legacy calls, hand-built objects and ignore
comments mixed in. The checker is timed in-process and as the `toolwire check` command (a
subprocess, interpreter start-up included), interleaved, median of the repeats.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from benchmarks.config import RunConfig
from benchmarks.internals import check_paths
from benchmarks.processes import clean_env
from benchmarks.stats import summarise
from benchmarks.targets import Target, target

NAME: Final = "checker"
IN_PROCESS: Final = "check_paths (in-process)"
COMMAND: Final = "toolwire check (subprocess, start-up included)"

MODULE_HEADER: Final = '''"""Generated module {index}."""
from toolwire.container import create_container
from toolwire.legacy import UnifiedToolDispatcher
from toolwire.services.executor import ToolExecutor

'''

FUNCTION: Final = '''

async def handler_{index}_{n}(ctx, message: str, items: list[int]) -> str:
    """Handle one request."""
    total = 0
    for item in items:
        if item % 3 == 0:
            total += item * 2
        else:
            total -= item
    text = f"{{message}}: {{total}}"
    if total > {n}:
        dispatcher = await UnifiedToolDispatcher.create_for_user(ctx)
        await dispatcher.cleanup()
    executor = ToolExecutor(user_context=ctx)  # toolwire: ignore[TW001]
    container = create_container()
    async with container.request_scope(ctx) as scope:
        await scope.run(text)
    return text
'''


def write_tree(root: Path, target_lines: int) -> tuple[int, int]:
    """Write modules under `root` until they hold `target_lines`; return (files, lines)."""
    files = lines = 0
    while lines < target_lines:
        package = root / f"pkg{files // 20}"
        package.mkdir(exist_ok=True)
        text = MODULE_HEADER.format(index=files)
        text += "".join(FUNCTION.format(index=files, n=n) for n in range(5))
        (package / f"module_{files}.py").write_text(text)
        files += 1
        lines += text.count("\n")
    return files, lines


def measure(target_lines: int, repeats: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Write the tree, then time the checker both ways `repeats` times, alternating."""
    samples: dict[str, list[float]] = {IN_PROCESS: [], COMMAND: []}
    with tempfile.TemporaryDirectory(prefix="toolwire-bench-") as tmp:
        files, lines = write_tree(Path(tmp), target_lines)
        findings = len(check_paths([tmp]).findings)
        command = [sys.executable, "-m", "toolwire", "check", tmp]
        env = clean_env({})
        for _ in range(repeats):
            started = time.perf_counter()
            check_paths([tmp])
            samples[IN_PROCESS].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, check=False, env=env)
            samples[COMMAND].append((time.perf_counter() - started) * 1000)
    return samples, {"files": files, "lines": lines, "findings": findings}


async def run(cfg: RunConfig) -> dict[str, Any]:
    """Generate the tree and time the checker both ways (in a thread: it blocks)."""
    repeats = cfg.size(7, 2)
    samples, tree = await asyncio.to_thread(measure, cfg.size(10_000, 1_000), repeats)
    lines = tree["lines"]
    figures = {name: summarise(values) for name, values in samples.items()}
    return {
        "params": {**tree, "repeats": repeats},
        "unit": "ms",
        "figures": figures,
        "samples": samples,
        "targets": targets(figures, lines),
    }


def targets(figures: dict[str, Any], lines: int) -> list[Target]:
    """Return the checker's figures (issue 12 sets no goal for them)."""
    in_process = figures[IN_PROCESS]["median"]
    return [
        target(f"`toolwire check` in-process, {lines:,} lines", "– (reported)",
               f"{in_process:.0f} ms ({in_process * 10_000 / lines:.0f} ms per 10k lines)",
               None),
        target("`toolwire check` as a command", "– (reported)",
               f"{figures[COMMAND]['median']:.0f} ms", None),
    ]
