"""The `Settings` model: nested groups, `TOOLWIRE_` prefix, `__` delimiter, profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
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
MCP_SERVER_NAME: Final = r"^[A-Za-z0-9_.-]{1,64}$"

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
    dev_login: bool = False
    allowed_origins: StrList = Field(default_factory=list)

    _split = field_validator("allowed_origins", mode="before")(_split_list)


class EventsSettings(BaseModel):
    """Which event bus carries run events."""

    backend: Literal["memory", "redis"] = "memory"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_prefix: str = "toolwire"


class McpServerSettings(BaseModel):
    """One MCP server: a stdio `command` (with `env`) or a streamable-HTTP `url` (+ `headers`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=MCP_SERVER_NAME,
        description="Names the server in logs, errors and the tools' origin.",
    )
    command: list[str] | None = Field(
        None, min_length=1, description="argv of a stdio server that toolwire starts, e.g. "
        '["python", "-m", "files_server"].',
    )
    env: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Variables added to the stdio server's environment (values are secret).",
    )
    url: str | None = Field(
        None, pattern=r"^https?://", description="Endpoint of a streamable-HTTP server."
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HTTP headers sent to a `url` server, e.g. Authorization (values are secret).",
    )
    prefix: str = Field(
        "", pattern=r"^[A-Za-z0-9_.-]*$",
        description="Prepended to each of the server's tool names, e.g. `files_`.",
    )

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSettings:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r}: give exactly one of command or url")
        if self.env and self.command is None:
            raise ValueError(f"MCP server {self.name!r}: env is only for a command server")
        if self.headers and self.url is None:
            raise ValueError(f"MCP server {self.name!r}: headers are only for a url server")
        return self

    def describe(self) -> str:
        """Return where the server is, without secrets: its argv, or its URL minus credentials."""
        if self.command is not None:
            return "stdio: " + " ".join(self.command)
        parts = urlsplit(self.url or "")
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        return "url: " + urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class ToolsSettings(BaseModel):
    """Tool timeouts, the built-ins that are on, modules that add tools, and MCP servers."""

    timeout_s: float = Field(30.0, gt=0)
    timeouts: dict[str, float] = Field(default_factory=dict)
    sleep_enabled: bool = False
    modules: StrList = Field(default_factory=list)
    enabled: StrList | None = None
    disabled: StrList = Field(default_factory=list)
    mcp_servers: list[McpServerSettings] = Field(
        default_factory=list,
        description="MCP servers whose tools join the registry at start-up (a JSON list).",
    )
    mcp_on_unavailable: Literal["error", "warn"] = Field(
        "error",
        description="A server that cannot be reached at start-up: `error` stops start-up, "
        "`warn` logs a warning and starts without its tools.",
    )
    mcp_connect_timeout_s: float = Field(
        10.0, gt=0,
        description="How long start-up (and a reconnection) waits for an MCP server to answer.",
    )

    _split = field_validator("modules", "enabled", "disabled", mode="before")(_split_list)

    @field_validator("mcp_servers")
    @classmethod
    def _unique_server_names(cls, servers: list[McpServerSettings]) -> list[McpServerSettings]:
        names = [server.name for server in servers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"two MCP servers are named {', '.join(map(repr, repeated))}")
        return servers

    def timeout_for(self, tool: str) -> float:
        """Return the timeout of `tool`, its own override first."""
        return self.timeouts.get(tool, self.timeout_s)


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
    request_timeout_s: float = Field(
        60.0, gt=0,
        description="Longest wait for the model API: to connect, and between streamed chunks.",
    )
    max_retries: int = Field(
        2, ge=0,
        description="Retries of a model request that failed with 408/409/429/5xx, a timeout or "
        "a connection error, with exponential backoff (Retry-After honoured).",
    )
    max_steps: int = Field(8, gt=0)
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    think_chars: int = Field(
        400, gt=0,
        description="Streamed text is sent as an agent_thinking once this many characters wait.",
    )
    think_interval_s: float = Field(
        0.5, ge=0,
        description="... or once this long passed since the last agent_thinking of the stream.",
    )

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
    def _refuse_unsafe_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = unsafe_production_settings(self)
        if problems:
            raise ValueError(
                "refusing unsafe production settings: " + "; ".join(problems)
            )
        return self


def unsafe_production_settings(settings: Settings) -> list[str]:
    """List what makes `settings` unsafe for production, each naming the variable to set."""
    problems: list[str] = []
    secret = settings.auth.jwt_secret.get_secret_value()
    if secret == DEFAULT_JWT_SECRET or len(secret.encode()) < MIN_SECRET_BYTES:
        problems.append(
            "set TOOLWIRE_AUTH__JWT_SECRET to a random secret of at least "
            f"{MIN_SECRET_BYTES} bytes (the default or a shorter one is not allowed)"
        )
    if settings.auth.dev_login:
        problems.append("set TOOLWIRE_AUTH__DEV_LOGIN=false (dev login is never allowed)")
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
