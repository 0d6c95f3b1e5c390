"""Secrets in URLs and argv never leave through the command line: not in `config show`, not in a
run's events, not in its log; an unreachable model is one clear log line, not a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import free_port

PASSWORD = "pw-in-the-url-7f3a"
QUERY_KEY = "key-in-the-query-c41d"
ARGV_TOKEN = "token-in-argv-99be"
HEADER = "header-secret-0a8e"
REDIS_PASSWORD = "redis-pw-51c0"
ALL = (PASSWORD, QUERY_KEY, ARGV_TOKEN, HEADER, REDIS_PASSWORD)


def toolwire(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    clean.update(env)
    return subprocess.run([sys.executable, "-m", "toolwire", *args], capture_output=True,
                          text=True, timeout=90, env=clean, check=False)


def test_config_show_strips_credentials_from_urls_and_argv() -> None:
    servers = [
        {"name": "files", "command": ["files-server", f"--token={ARGV_TOKEN}", "--api-key",
                                      ARGV_TOKEN, "--root", "/srv"]},
        {"name": "web", "url": f"https://bot:{PASSWORD}@mcp.example/mcp?key={QUERY_KEY}",
         "headers": {"Authorization": f"Bearer {HEADER}"}},
    ]
    done = toolwire("config", "show", env={
        "TOOLWIRE_AGENT__BASE_URL": f"https://u:{PASSWORD}@llm.example/v1?api-key={QUERY_KEY}",
        "TOOLWIRE_TOOLS__MCP_SERVERS": json.dumps(servers),
        "TOOLWIRE_EVENTS__REDIS_URL": f"redis://:{REDIS_PASSWORD}@db:6379/0",
    })
    assert done.returncode == 0, done.stderr
    for secret in ALL:
        assert secret not in done.stdout + done.stderr
    shown = json.loads(done.stdout)
    assert shown["agent"]["base_url"] == "https://llm.example/v1"
    files, web = shown["tools"]["mcp_servers"]
    assert files["command"] == ["files-server", "--token=***", "--api-key", "***", "--root",
                                "/srv"]
    assert web["url"] == "https://mcp.example/mcp"


def test_an_unreachable_model_ends_the_run_clearly_and_logs_one_line_without_secrets() -> None:
    base_url = f"http://user:{PASSWORD}@127.0.0.1:{free_port()}/v1?api-key={QUERY_KEY}"
    done = toolwire("run", "hello", env={
        "TOOLWIRE_AGENT__BACKEND": "openai", "TOOLWIRE_AGENT__API_KEY": "sk-unused-4b1e9d",
        "TOOLWIRE_AGENT__BASE_URL": base_url, "TOOLWIRE_AGENT__MAX_RETRIES": "1",
    })
    assert done.returncode == 1
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["type"] == "agent_completed" and last["data"]["status"] == "error"
    message = last["data"]["error"]["message"]
    assert "could not reach the model API at http://127.0.0.1:" in message
    assert "after 1 retry (agent.max_retries)" in message
    for secret in ALL:
        assert secret not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if "agent failed" in line]
    assert len(failed) == 1 and "could not reach the model API" in failed[0]
