"""Agent settings: the openai backend, its environment variables and its required key."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from toolwire.cli import main
from toolwire.config import Settings, describe_settings_error

STRONG_SECRET = "5f0c9a1e7b3d42c8a6e1f9b0d7c3a5e2"  # 32 bytes, 14 distinct: random-looking


def test_the_embedded_agent_is_the_default_and_needs_no_key() -> None:
    agent = Settings().agent
    assert agent.backend == "embedded"
    assert agent.api_key is None
    assert (agent.base_url, agent.model) == ("https://api.openai.com/v1", "gpt-4o-mini")
    assert (agent.request_timeout_s, agent.max_steps) == (60, 8)
    assert agent.system_prompt


def test_the_openai_backend_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOOLWIRE_AGENT__BACKEND", "openai")
    monkeypatch.setenv("TOOLWIRE_AGENT__API_KEY", "sk-from-env")
    monkeypatch.setenv("TOOLWIRE_AGENT__BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("TOOLWIRE_AGENT__MODEL", "llama3.1")
    monkeypatch.setenv("TOOLWIRE_AGENT__MAX_STEPS", "3")
    agent = Settings().agent
    assert agent.backend == "openai"
    assert agent.api_key is not None and agent.api_key.get_secret_value() == "sk-from-env"
    assert (agent.base_url, agent.model, agent.max_steps) == (
        "http://127.0.0.1:11434/v1", "llama3.1", 3)


@pytest.mark.parametrize("env", ["development", "test", "staging", "production"])
@pytest.mark.parametrize("api_key", [None, ""])
def test_the_openai_backend_without_a_key_is_refused_in_every_env(
    monkeypatch: pytest.MonkeyPatch, env: str, api_key: str | None
) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", env)
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("TOOLWIRE_AGENT__BACKEND", "openai")
    if api_key is not None:
        monkeypatch.setenv("TOOLWIRE_AGENT__API_KEY", api_key)
    with pytest.raises(ValidationError) as info:
        Settings()
    assert "TOOLWIRE_AGENT__API_KEY" in describe_settings_error(info.value)


def test_the_api_key_is_masked_when_settings_are_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(agent={"backend": "openai", "api_key": "sk-very-secret"})
    assert "sk-very-secret" not in repr(settings)
    monkeypatch.setenv("TOOLWIRE_AGENT__BACKEND", "openai")
    monkeypatch.setenv("TOOLWIRE_AGENT__API_KEY", "sk-very-secret")
    shown = CliRunner().invoke(main, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["agent"]["api_key"] == "**********"
    assert "sk-very-secret" not in shown.output
