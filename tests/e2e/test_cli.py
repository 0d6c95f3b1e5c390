"""The `toolwire` command, run as a user runs it: a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from toolwire.testing import assert_well_formed


def toolwire(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "toolwire", *args],
        capture_output=True, text=True, timeout=60, env=clean, check=False,
    )


def test_run_prints_a_well_formed_run_as_json_lines() -> None:
    done = toolwire("run", '/call calculator {"expression": "2+3*4"}')
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_well_formed(events)
    assert [e["type"] for e in events] == [
        "agent_started", "agent_thinking", "tool_executing", "tool_completed",
        "agent_thinking", "agent_completed",
    ]
    assert events[3]["data"]["result"] == 14
    assert events[-1]["data"]["status"] == "ok"
    assert "14" in events[-1]["data"]["answer"]


def test_run_answers_arithmetic_questions() -> None:
    done = toolwire("run", "--user", "ada", "what is 6*7?")
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.splitlines()[-1])
    assert "42" in last["data"]["answer"]


def test_run_tells_the_time_in_the_zone_the_question_names() -> None:
    done = toolwire("run", "what time is it in Asia/Tokyo?")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    [executing] = [e for e in events if e["type"] == "tool_executing"]
    assert executing["data"]["args"] == {"tz": "Asia/Tokyo"}
    assert events[-1]["data"]["answer"].endswith("+09:00 (Asia/Tokyo).")


def test_run_and_tools_know_scopes() -> None:
    env = {"TOOLWIRE_TOOLS__SCOPES": '{"calculator": ["math"]}'}
    message = '/call calculator {"expression": "1+1"}'
    refused = [json.loads(line) for line in toolwire("run", message, env=env).stdout.splitlines()]
    assert refused[3]["data"]["error"]["type"] == "forbidden"
    granted = toolwire("run", "--scope", "math", "--scope", "other", message, env=env)
    assert granted.returncode == 0, granted.stderr
    assert json.loads(granted.stdout.splitlines()[3])["data"]["result"] == 2
    listed = json.loads(toolwire("tools", "--json", env=env).stdout)
    assert {t["name"]: t["scopes"] for t in listed}["calculator"] == ["math"]


def test_run_exits_non_zero_when_the_run_fails() -> None:
    done = toolwire("run", "\n".join(["/call clock {}"] * 3),
                    env={"TOOLWIRE_RUNS__MAX_TOOL_CALLS": "1"})
    assert done.returncode == 1
    last = json.loads(done.stdout.splitlines()[-1])
    assert last["data"]["error"]["type"] == "limit_exceeded"


def test_run_refuses_unsafe_production_settings() -> None:
    done = toolwire("run", "hi", env={"TOOLWIRE_ENV": "production"})
    assert done.returncode != 0
    assert done.stdout == ""
    assert "TOOLWIRE_AUTH__JWT_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_show_masks_secrets() -> None:
    secret = "x" * 48
    done = toolwire("config", "show", "--env", "staging",
                    env={"TOOLWIRE_AUTH__JWT_SECRET": secret})
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["env"] == "staging"
    assert shown["auth"]["dev_login"] is False
    assert secret not in done.stdout
    assert shown["auth"]["jwt_secret"] == "**********"


def test_tools_lists_builtins_with_schemas() -> None:
    done = toolwire("tools", "--json",
                    env={"TOOLWIRE_ENV": "staging", "TOOLWIRE_AUTH__JWT_SECRET": "x" * 48})
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    assert set(tools) == {"calculator", "clock", "echo"}  # no sleep outside dev/test
    assert tools["calculator"]["args"]["required"] == ["expression"]


@pytest.mark.parametrize("command", [[], ["run"], ["config", "show"], ["tools"]])
def test_help_everywhere(command: list[str]) -> None:
    done = toolwire(*command, "--help")
    assert done.returncode == 0
    assert "Usage:" in done.stdout


def test_a_run_that_went_well_logs_nothing_at_info() -> None:
    done = toolwire("run", "--user", "ada", "what is 6*7?",
                    env={"TOOLWIRE_ENV": "staging", "TOOLWIRE_AUTH__JWT_SECRET": "k" * 48})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_run_logs_json_lines_in_staging_without_the_secret() -> None:
    secret = "k" * 48
    done = toolwire("run", "--user", "ada", "what is 6*7?",
                    env={"TOOLWIRE_ENV": "staging", "TOOLWIRE_AUTH__JWT_SECRET": secret,
                         "TOOLWIRE_LOG_LEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr
    entries = [entry for entry in map(json.loads, done.stderr.splitlines())
               if entry["logger"] == "toolwire.services.run"]
    run_id = json.loads(done.stdout.splitlines()[0])["run_id"]
    request_id = json.loads(done.stdout.splitlines()[0])["data"]["request_id"]
    assert [e["message"] for e in entries] == ["run started (agent embedded, from in-process)",
                                               entries[1]["message"]]
    assert entries[1]["message"].startswith("run ended: ok")
    assert {(e["run_id"], e["user_id"], e["request_id"], e["level"]) for e in entries} == {
        (run_id, "ada", request_id, "DEBUG")}
    assert secret not in done.stderr


def test_run_logs_readable_lines_in_development() -> None:
    done = toolwire("run", "hi", env={"TOOLWIRE_LOG_LEVEL": "DEBUG"})
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "toolwire.services.run" in line]
    assert len(lines) == 2
    assert all(" DEBUG " in line and "[run=r_" in line for line in lines)
    assert "Using selector" not in done.stderr


def test_run_refuses_an_empty_message_like_the_websocket() -> None:
    done = toolwire("run", "")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "MESSAGE: must not be empty" in done.stderr
