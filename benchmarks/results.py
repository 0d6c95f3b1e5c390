"""Read and write `results/<benchmark>.json`: figures, raw samples, targets and the machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_result(results_dir: Path, name: str, result: dict[str, Any]) -> Path:
    """Write one benchmark's result as `<results_dir>/<name>.json` and return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_results(results_dir: Path) -> dict[str, dict[str, Any]]:
    """Return every result in `results_dir`, by benchmark name."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[str(data.get("name", path.stem))] = data
    return found
