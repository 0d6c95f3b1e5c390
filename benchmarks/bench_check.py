"""Time `toolwire check` on a generated tree of about 10 000 lines.

Run: `python benchmarks/bench_check.py [--lines N] [--repeat R]`. It writes a tree of
modules (plain code, with a few legacy calls, constructions and ignore comments mixed in)
to a temporary directory, then reports the best of R runs of the checker in-process and of
the `toolwire check` command as a subprocess (interpreter start-up included).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from toolwire.checker import check_paths

MODULE_HEADER = '''"""Generated module {index}."""
from toolwire.container import create_container
from toolwire.legacy import UnifiedToolDispatcher
from toolwire.services.executor import ToolExecutor

'''

FUNCTION = '''

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


def best_of(repeat: int, run: object) -> float:
    """Return the fastest of `repeat` timed calls of `run`, in seconds."""
    assert callable(run)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Generate the tree, time the checker, print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files, lines = write_tree(root, args.lines)
        result = check_paths([tmp])
        in_process = best_of(args.repeat, lambda: check_paths([tmp]))
        command = [sys.executable, "-m", "toolwire", "check", tmp]
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
        cli = best_of(args.repeat, lambda: subprocess.run(
            command, capture_output=True, check=False, env=env))
    print(f"# {date.today().isoformat()} · {platform.machine()} ({os.cpu_count()} CPUs) · "
          f"Python {platform.python_version()} · {platform.system()} {platform.release()}")
    print(f"tree: {files} files, {lines} lines, {len(result.findings)} findings")
    print(f"check_paths (in-process): {in_process * 1000:.0f} ms "
          f"({in_process * 1000 * 10_000 / lines:.0f} ms per 10k lines)")
    print(f"toolwire check (subprocess, start-up included): {cli * 1000:.0f} ms")


if __name__ == "__main__":
    main()
