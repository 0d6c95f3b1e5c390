"""`toolwire stand-in-model` and `toolwire run` with `agent.backend=openai`, as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def stand_in_url() -> Iterator[str]:
    """Start `toolwire stand-in-model --port 0`; yield the base URL it prints; stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "toolwire", "stand-in-model", "--port", "0"],
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        found = re.search(r"http://\S+/v1", line)
        assert found, f"no URL in {line!r}"
        yield found[0]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
    assert code == 0


def run(message: str, base_url: str) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    env.update(TOOLWIRE_AGENT__BACKEND="openai", TOOLWIRE_AGENT__BASE_URL=base_url,
               TOOLWIRE_AGENT__API_KEY="anything")
    done = subprocess.run([sys.executable, "-m", "toolwire", "run", message], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_toolwire_run_with_the_openai_backend_answers(stand_in_url: str) -> None:
    events = run("what is 6*7?", stand_in_url)
    assert events[0]["data"]["agent"] == "openai"
    assert [e["type"] for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed"]
    assert events[-1]["data"]["answer"] == "6*7 = 42"


def test_parallel_tool_calls_and_a_zone(stand_in_url: str) -> None:
    events = run("what is 6*7, and the time in Asia/Tokyo?", stand_in_url)
    calls = [e["data"]["args"] for e in events if e["type"] == "tool_executing"]
    assert calls == [{"expression": "6*7"}, {"tz": "Asia/Tokyo"}]
    assert "(Asia/Tokyo)" in events[-1]["data"]["answer"]
