"""`python -m benchmarks --quick` runs every benchmark end to end (CI's smoke run).

It checks the harness, never the speed: the figures of a quick run mean nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.stack import require_bench_stack

require_bench_stack()

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ("scope", "legacy", "memory", "checker", "users", "delivery", "cost", "tracing",
              "schemas")


@pytest.mark.timeout(600)
def test_the_quick_run_measures_everything_and_writes_the_page(tmp_path: Path) -> None:
    results, page = tmp_path / "results", tmp_path / "BENCHMARKS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--results", str(results),
         "--report", str(page)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for name in BENCHMARKS:
        result = json.loads((results / f"{name}.json").read_text())
        assert result["quick"] is True
        assert result["targets"], name
    delivery = json.loads((results / "delivery.json").read_text())
    toolwire_cells = [c for c in delivery["cells"] if c["variant"].startswith("toolwire")]
    assert toolwire_cells
    assert all(c["drops"] == 0 and c["duplicates"] == 0 for c in toolwire_cells)
    text = page.read_text()
    assert "Quick smoke run" in text
    for heading in ("## Targets (issue 12)", "## 1. Request scope", "## 2. Event delivery",
                    "## 3. Memory", "## 4. Many users", "## 5. Legacy", "## 6. `toolwire check`",
                    "## 7. Server CPU", "## 8. Tracing", "## 9. Foreign schemas"):
        assert heading in text
    for plot in ("scope.png", "throughput.png", "latency.png"):
        assert (results / plot).stat().st_size > 1000
        assert f"]({Path('results') / plot})" in text
