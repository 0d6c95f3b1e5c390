"""`examples/legacy_caller.py` runs unchanged and warns once per legacy entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
ENTRY_POINTS = (
    "UnifiedToolDispatcher.create_for_user", "UnifiedToolDispatcherFactory.create",
    "RequestScopedToolDispatcher", "ToolDispatcher.create_request_scoped_dispatcher",
    "ToolExecutorFactory.create_executor", "create_request_scoped_executor",
    "WebSocketBridgeAdapter", "create_agent_websocket_bridge",
)


def test_the_legacy_caller_runs_and_warns_once_per_entry_point() -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOOLWIRE_") and k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, "examples/legacy_caller.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "UnifiedToolDispatcher.create_for_user: 42" in done.stdout
    assert "create_request_scoped_executor: hello, Grace" in done.stdout
    warned = [line.split("DeprecationWarning: ", 1)[1].split(" is deprecated")[0]
              for line in done.stderr.splitlines() if "DeprecationWarning: " in line]
    assert sorted(warned) == sorted(ENTRY_POINTS)
    assert "ResourceWarning" not in done.stderr
