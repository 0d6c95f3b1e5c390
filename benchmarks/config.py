"""`RunConfig`: one harness run's size (full or quick), where it writes, and its seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunConfig:
    """How big this run is and where its results go."""

    quick: bool
    results_dir: Path
    seed: int = 12

    def size(self, full: T, quick: T) -> T:
        """Return `quick` in a smoke run, `full` otherwise."""
        return quick if self.quick else full

    def rng(self, salt: str) -> random.Random:
        """Return a random generator seeded for one benchmark (the order of variants)."""
        return random.Random(f"{self.seed}:{salt}")
