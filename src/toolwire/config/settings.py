"""The `Settings` model: nested groups, `TOOLWIRE_` prefix, `__` delimiter, profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from toolwire.config.profiles import PROFILES, EnvName

DEFAULT_JWT_SECRET: Final = "toolwire-development-secret-do-not-use"
MIN_SECRET_BYTES: Final = 32

StrList = Annotated[list[str], NoDecode]


def _split_list(value: Any) -> Any:
    """Accept a JSON list or a comma-separated string for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class ServerSettings(BaseModel):
    """Where `toolwire serve` listens."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class AuthSettings(BaseModel):
    """JWT verification and the development login endpoint."""

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    token_ttl_s: int = Field(3600, gt=0)
    audience: str | None = None
    issuer: str | None = None
    leeway_s: float = Field(10.0, ge=0)
    max_token_ttl_s: int = Field(
        24 * 3600, gt=0,
        description="Longest lifetime a token may claim (exp minus iat, or exp minus now "
                    "when it has no iat); longer-lived tokens are refused.")
    dev_login: bool = False
    allowed_origins: StrList = Field(default_factory=list)

    _split = field_validator("allowed_origins", mode="before")(_split_list)


class EventsSettings(BaseModel):
    """Which event bus carries run events."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_prefix: str = "toolwire"


class ToolsSettings(BaseModel):
    """Tool timeouts, the built-ins that are on, and modules that add tools."""

    timeout_s: float = Field(30.0, gt=0)
    timeouts: dict[str, float] = Field(default_factory=dict)
    sleep_enabled: bool = False
    modules: StrList = Field(default_factory=list)
    enabled: StrList | None = None
    disabled: StrList = Field(default_factory=list)

    _split = field_validator("modules", "enabled", "disabled", mode="before")(_split_list)


class RunsSettings(BaseModel):
    """Limits and retention of agent runs."""

    max_tool_calls: int = Field(32, ge=0)
    max_duration_s: float = Field(300.0, gt=0)
    retention_s: float = Field(900.0, ge=0)
    max_events: int = Field(10_000, gt=0)
    shutdown_grace_s: float = Field(10.0, ge=0)
    cancel_on_disconnect: bool = False


class WsSettings(BaseModel):
    """WebSocket transport limits."""

    max_message_bytes: int = Field(1024 * 1024, gt=0)
    send_queue: int = Field(1024, gt=0)
    send_queue_bytes: int = Field(
        4 * 1024 * 1024, gt=0,
        description="Bytes a socket may have waiting to be sent; past this (or past "
                    "send_queue frames) the server gives up on it: close 1008 slow consumer.")
    close_timeout_s: float = Field(
        5.0, gt=0,
        description="How long a closing handshake may take before the connection is aborted.")
    heartbeat_s: float = Field(20.0, gt=0)


class LimitsSettings(BaseModel):
    """Per-user quotas."""

    sockets_per_user: int = Field(10, gt=0)
    runs_per_user: int = Field(4, gt=0)
    chats_per_minute: int = Field(60, gt=0)


class LegacySettings(BaseModel):
    """How the deprecated factory entry points behave."""

    mode: Literal["warn", "error", "off"] = "warn"
    removal_date: date | None = None


DEFAULT_SYSTEM_PROMPT: Final = (
    "You are a helpful assistant. Call the tools you are given when they help, "
    "then answer briefly."
)


class AgentSettings(BaseModel):
    """Which agent answers chats, and how the `openai` backend reaches its model."""

    backend: Literal["embedded", "openai"] = "embedded"
    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    request_timeout_s: float = Field(60.0, gt=0)
    max_steps: int = Field(8, gt=0)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT

    @model_validator(mode="after")
    def _openai_needs_a_key(self) -> AgentSettings:
        if self.backend == "openai" and not (self.api_key and self.api_key.get_secret_value()):
            raise ValueError(
                "set TOOLWIRE_AGENT__API_KEY to the model API's key "
                "(TOOLWIRE_AGENT__BACKEND=openai needs one)"
            )
        return self


class _ProfileSource(PydanticBaseSettingsSource):
    """Lowest-priority source: the defaults of the selected `TOOLWIRE_ENV` profile."""

    def __init__(
        self, settings_cls: type[BaseSettings], *env_sources: PydanticBaseSettingsSource
    ) -> None:
        super().__init__(settings_cls)
        self._env_sources = env_sources

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        env = "development"
        for source in self._env_sources:  # highest priority first
            value = source().get("env")
            if value:
                env = str(value)
                break
        return dict(PROFILES.get(env, {}))


class Settings(BaseSettings):
    """All of toolwire's settings; `TOOLWIRE_ENV` picks the profile defaults."""

    model_config = SettingsConfigDict(
        env_prefix="TOOLWIRE_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    env: EnvName = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    runs: RunsSettings = Field(default_factory=RunsSettings)
    ws: WsSettings = Field(default_factory=WsSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    legacy: LegacySettings = Field(default_factory=LegacySettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        profile = _ProfileSource(settings_cls, init_settings, env_settings, dotenv_settings)
        return init_settings, env_settings, dotenv_settings, file_secret_settings, profile

    @model_validator(mode="after")
    def _refuse_unsafe_settings(self) -> Settings:
        if self.env == "production":
            problems = unsafe_production_settings(self)
        elif self.env == "staging":
            problems = _weak_secret(self)
        else:
            return self
        if problems:
            raise ValueError(f"refusing unsafe {self.env} settings: " + "; ".join(problems))
        return self


def _weak_secret(settings: Settings) -> list[str]:
    secret = settings.auth.jwt_secret.get_secret_value()
    if secret == DEFAULT_JWT_SECRET or len(secret.encode()) < MIN_SECRET_BYTES:
        return [
            "set TOOLWIRE_AUTH__JWT_SECRET to a random secret of at least "
            f"{MIN_SECRET_BYTES} bytes (the default or a shorter one is not allowed)"
        ]
    return []


def unsafe_production_settings(settings: Settings) -> list[str]:
    """List what makes `settings` unsafe for production, each naming the variable to set."""
    problems = _weak_secret(settings)
    if settings.auth.dev_login:
        problems.append("set TOOLWIRE_AUTH__DEV_LOGIN=false (dev login is never allowed)")
    if not settings.auth.allowed_origins:
        problems.append(
            "set TOOLWIRE_AUTH__ALLOWED_ORIGINS to the origins of your web pages "
            "(comma-separated), or to * to let any origin connect"
        )
    if settings.tools.sleep_enabled:
        problems.append("set TOOLWIRE_TOOLS__SLEEP_ENABLED=false (the sleep tool is dev-only)")
    return problems


def describe_settings_error(error: Exception) -> str:
    """Render a settings validation error without echoing input values (they may be secrets)."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "invalid settings: " + "\n  ".join(lines)
