"""Settings: profiles, environment overrides, production refusals, masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from toolwire.config import Settings, describe_settings_error

STRONG_SECRET = "5f0c9a1e7b3d42c8a6e1f9b0d7c3a5e2"  # 32 bytes, 14 distinct: random-looking


@pytest.mark.parametrize(
    ("env", "dev_login", "sleep_enabled", "log_level", "log_format"),
    [
        ("development", True, True, "INFO", "text"),
        ("test", True, True, "WARNING", "text"),
        ("staging", False, False, "INFO", "json"),
    ],
)
def test_each_profile_sets_its_defaults(
    monkeypatch: pytest.MonkeyPatch, env: str, dev_login: bool, sleep_enabled: bool,
    log_level: str, log_format: str,
) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", env)
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)  # staging needs one
    settings = Settings()
    assert settings.env == env
    assert settings.auth.dev_login is dev_login
    assert settings.tools.sleep_enabled is sleep_enabled
    assert settings.log_level == log_level
    assert settings.log_format == log_format


def test_development_is_the_default_profile() -> None:
    assert Settings().env == "development"
    assert Settings().auth.dev_login is True


def test_production_defaults_with_a_strong_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "production")
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("TOOLWIRE_AUTH__ALLOWED_ORIGINS", "https://chat.example")
    settings = Settings()
    assert settings.auth.allowed_origins == ["https://chat.example"]
    assert settings.auth.dev_login is False
    assert settings.tools.sleep_enabled is False
    assert settings.server.host == "0.0.0.0"
    assert settings.log_format == "json"


def test_documented_defaults() -> None:
    settings = Settings()
    assert settings.ws.max_message_bytes == 1024 * 1024
    assert settings.ws.send_queue == 1024
    assert settings.ws.heartbeat_s == 20
    assert settings.runs.retention_s == 900
    assert settings.runs.max_events == 10_000
    assert settings.runs.max_tool_calls == 32
    assert settings.runs.max_duration_s == 300
    assert settings.runs.shutdown_grace_s == 10
    assert settings.runs.cancel_on_disconnect is False
    assert settings.limits.sockets_per_user == 10
    assert settings.limits.runs_per_user == 4
    assert settings.limits.chats_per_minute == 60
    assert settings.tools.timeout_s == 30
    assert settings.events.backend == "memory"


def test_explicit_variables_win_over_the_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "staging")
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("TOOLWIRE_AUTH__DEV_LOGIN", "true")
    monkeypatch.setenv("TOOLWIRE_LOG_LEVEL", "ERROR")
    monkeypatch.setenv("TOOLWIRE_RUNS__MAX_TOOL_CALLS", "5")
    monkeypatch.setenv("TOOLWIRE_EVENTS__BACKEND", "redis")
    settings = Settings()
    assert settings.auth.dev_login is True
    assert settings.log_level == "ERROR"
    assert settings.runs.max_tool_calls == 5
    assert settings.events.backend == "redis"
    assert settings.tools.sleep_enabled is False  # untouched profile default stays


def test_init_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "staging")
    assert Settings(env="test").auth.dev_login is True


def test_dotenv_file_is_read() -> None:
    Path(".env").write_text(
        f"TOOLWIRE_ENV=staging\nTOOLWIRE_AUTH__JWT_SECRET={STRONG_SECRET}\n"
        "TOOLWIRE_SERVER__PORT=9999\n")
    settings = Settings()
    assert settings.env == "staging"
    assert settings.server.port == 9999


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a.tools, b.tools", ["a.tools", "b.tools"]), ('["x.y"]', ["x.y"]), ("", [])],
)
def test_list_settings_take_commas_or_json(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]
) -> None:
    monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", value)
    assert Settings().tools.modules == expected


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "TOOLWIRE_AUTH__JWT_SECRET"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": "tiny-pw-9"}, "TOOLWIRE_AUTH__JWT_SECRET"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET, "TOOLWIRE_AUTH__DEV_LOGIN": "1"},
         "TOOLWIRE_AUTH__DEV_LOGIN"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET, "TOOLWIRE_TOOLS__SLEEP_ENABLED": "1"},
         "TOOLWIRE_TOOLS__SLEEP_ENABLED"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET}, "TOOLWIRE_AUTH__ALLOWED_ORIGINS"),
    ],
)
def test_production_refuses_unsafe_settings_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "production")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_settings_error(caught.value)
    assert named in message
    assert "tiny-pw-9" not in message  # the offending secret is never echoed


ORIGINS = {"TOOLWIRE_AUTH__ALLOWED_ORIGINS": "https://chat.example"}


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"TOOLWIRE_AUTH__JWT_SECRET": " " * 40}, "TOOLWIRE_AUTH__JWT_SECRET"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": "z" * 64}, "TOOLWIRE_AUTH__JWT_SECRET"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": "abcabc" * 8}, "TOOLWIRE_AUTH__JWT_SECRET"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET, "TOOLWIRE_AUTH__LEEWAY_S": "1e9"},
         "TOOLWIRE_AUTH__LEEWAY_S"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET, "TOOLWIRE_AUTH__MAX_TOKEN_TTL_S":
          str(10 * 365 * 24 * 3600)}, "TOOLWIRE_AUTH__MAX_TOKEN_TTL_S"),
        ({"TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET, "TOOLWIRE_AUTH__TOKEN_TTL_S":
          str(30 * 24 * 3600)}, "TOOLWIRE_AUTH__TOKEN_TTL_S"),
    ],
)
def test_production_refuses_weak_secrets_long_leeway_and_long_lived_tokens(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], named: str
) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "production")
    for name, value in {**ORIGINS, **variables}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_settings_error(caught.value)
    assert message.count("set TOOLWIRE_") == 1 and named in message
    assert "abcabc" not in message and "zzzz" not in message


def test_production_accepts_the_limits_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "production")
    for name, value in {**ORIGINS, "TOOLWIRE_AUTH__JWT_SECRET": STRONG_SECRET,
                        "TOOLWIRE_AUTH__LEEWAY_S": "60",
                        "TOOLWIRE_AUTH__MAX_TOKEN_TTL_S": str(7 * 24 * 3600)}.items():
        monkeypatch.setenv(name, value)
    assert Settings().auth.leeway_s == 60


def test_secrets_are_masked_in_repr_and_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("TOOLWIRE_EVENTS__REDIS_URL", "redis://:hunter2@db:6379/0")
    settings = Settings()
    assert STRONG_SECRET not in repr(settings)
    assert STRONG_SECRET not in str(settings.model_dump(mode="json"))
    assert "hunter2" not in str(settings.model_dump(mode="json"))
    assert settings.auth.jwt_secret.get_secret_value() == STRONG_SECRET


@pytest.mark.parametrize("secret", [None, "tiny-pw-9"])
def test_staging_refuses_the_public_default_or_a_short_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "staging")
    if secret is not None:
        monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", secret)
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_settings_error(caught.value)
    assert "TOOLWIRE_AUTH__JWT_SECRET" in message
    assert "tiny-pw-9" not in message


def test_production_may_allow_any_origin_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLWIRE_ENV", "production")
    monkeypatch.setenv("TOOLWIRE_AUTH__JWT_SECRET", STRONG_SECRET)
    monkeypatch.setenv("TOOLWIRE_AUTH__ALLOWED_ORIGINS", "*")
    assert Settings().auth.allowed_origins == ["*"]
