"""`toolwire tools`, `run` and `serve` with MCP servers configured, run as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.fixtures_models import DEMO_STDIO
from toolwire.testing import assert_well_formed

DEMO = json.dumps([{"name": "demo", "command": DEMO_STDIO, "prefix": "demo_"}])
DOWN = json.dumps([{"name": "gone", "command": [sys.executable, "-c", "raise SystemExit(1)"]}])


def toolwire(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    return subprocess.run(
        [sys.executable, "-m", "toolwire", *args], capture_output=True, text=True, timeout=60,
        env={**clean, "TOOLWIRE_ENV": "test", **env}, check=False)


def test_tools_lists_mcp_tools_beside_the_built_ins() -> None:
    done = toolwire("tools", "--json", env={"TOOLWIRE_TOOLS__MCP_SERVERS": DEMO})
    assert done.returncode == 0, done.stderr
    listed = {tool["name"]: tool for tool in json.loads(done.stdout)}
    assert {"calculator", "clock", "echo", "demo_add", "demo_shout"} <= set(listed)
    assert "MCP server 'demo'" in listed["demo_add"]["origin"]
    assert listed["demo_add"]["args"]["properties"]["a"]["type"] == "integer"


def test_run_calls_an_mcp_tool_and_prints_only_events() -> None:
    done = toolwire("run", '/call demo_add {"a": 20, "b": 22}',
                    env={"TOOLWIRE_TOOLS__MCP_SERVERS": DEMO})
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_well_formed(events)
    [completed] = [e for e in events if e["type"] == "tool_completed"]
    assert completed["data"]["result"] == {"result": 42}


def test_a_server_down_at_start_up_is_one_clear_line_and_a_failure() -> None:
    for command in (["tools"], ["run", "hi"]):
        done = toolwire(*command, env={"TOOLWIRE_TOOLS__MCP_SERVERS": DOWN})
        assert done.returncode == 1, done.stderr
        assert done.stdout == ""
        assert "MCP server 'gone'" in done.stderr and "unavailable" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_server_down_at_start_up_can_be_a_warning() -> None:
    done = toolwire("tools", env={"TOOLWIRE_TOOLS__MCP_SERVERS": DOWN,
                                  "TOOLWIRE_TOOLS__MCP_ON_UNAVAILABLE": "warn"})
    assert done.returncode == 0, done.stderr
    assert "calculator:" in done.stdout
    assert "MCP server 'gone'" in done.stderr and "without its tools" in done.stderr


def test_serve_refuses_to_start_when_a_server_is_down() -> None:
    done = toolwire("serve", "--port", "0", env={"TOOLWIRE_TOOLS__MCP_SERVERS": DOWN})
    assert done.returncode == 1
    assert "MCP server 'gone'" in done.stderr and "Traceback" not in done.stderr
