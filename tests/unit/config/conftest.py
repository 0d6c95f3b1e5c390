"""Settings tests read the environment: give each one a clean slate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TOOLWIRE_ variable or .env file of the developer leaks into these tests."""
    for name in list(os.environ):
        if name.startswith("TOOLWIRE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
