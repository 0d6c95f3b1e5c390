"""`tools.mcp_servers` and its companions: shapes, validation, masking, the environment."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from toolwire.cli import main
from toolwire.config import McpServerSettings, Settings, describe_settings_error


def test_servers_come_from_a_json_list_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_TOOLS__MCP_SERVERS", json.dumps([
        {"name": "files", "command": ["python", "-m", "files_server"], "env": {"ROOT": "/srv"}},
        {"name": "web", "url": "https://tools.example/mcp", "prefix": "web_",
         "headers": {"Authorization": "Bearer t"}}]))
    monkeypatch.setenv("TOOLWIRE_TOOLS__MCP_ON_UNAVAILABLE", "warn")
    tools = Settings().tools
    files, web = tools.mcp_servers
    assert files.command == ["python", "-m", "files_server"] and files.env["ROOT"]
    assert web.url == "https://tools.example/mcp" and web.prefix == "web_"
    assert tools.mcp_on_unavailable == "warn" and tools.mcp_connect_timeout_s == 10


def test_the_defaults_have_no_servers_and_fail_on_an_unavailable_one() -> None:
    tools = Settings().tools
    assert tools.mcp_servers == [] and tools.mcp_on_unavailable == "error"


@pytest.mark.parametrize(("server", "problem"), [
    ({"name": "x"}, "exactly one of command or url"),
    ({"name": "x", "command": ["a"], "url": "http://h/mcp"}, "exactly one of command or url"),
    ({"name": "x", "url": "http://h/mcp", "env": {"A": "1"}}, "env is only for a command"),
    ({"name": "x", "command": ["a"], "headers": {"A": "1"}}, "headers are only for a url"),
    ({"name": "x", "command": []}, "at least 1 item"),
    ({"name": "x", "url": "file:///etc/passwd"}, "should match pattern"),
    ({"name": "bad name", "command": ["a"]}, "should match pattern"),
    ({"name": "x", "command": ["a"], "prefix": "no spaces "}, "should match pattern"),
    ({"name": "x", "command": ["a"], "transport": "ws"}, "Extra inputs are not permitted"),
])
def test_a_malformed_server_is_refused_saying_why(server: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(tools={"mcp_servers": [server]})
    assert problem in describe_settings_error(info.value)


def test_two_servers_with_one_name_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(tools={"mcp_servers": [{"name": "a", "command": ["x"]},
                                        {"name": "a", "url": "http://h/mcp"}]})
    assert "two MCP servers are named 'a'" in describe_settings_error(info.value)


def test_env_values_and_headers_are_secrets_and_urls_lose_their_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOOLWIRE_TOOLS__MCP_SERVERS", json.dumps([
        {"name": "files", "command": ["srv"], "env": {"TOKEN": "env-secret"}},
        {"name": "web", "url": "https://u:url-secret@h:8443/mcp?key=q-secret",
         "headers": {"Authorization": "Bearer header-secret"}}]))
    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert "env-secret" not in shown.output and "header-secret" not in shown.output
    web = McpServerSettings(name="web", url="https://u:url-secret@h:8443/mcp?key=q-secret")
    assert web.describe() == "url: https://h:8443/mcp"


def test_the_model_settings_for_retries_and_streaming_have_defaults() -> None:
    agent = Settings().agent
    assert (agent.max_retries, agent.think_chars, agent.think_interval_s) == (2, 400, 0.5)
