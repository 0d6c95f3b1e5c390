"""The `Settings` model: nested groups, `TOOLWIRE_` prefix, `__` delimiter, profiles."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from toolwire.config.fields import walk
from toolwire.config.policy import (
    DEFAULT_JWT_SECRET,
    MAX_LEEWAY_S,
    MAX_TOKEN_TTL_S,
    MIN_SECRET_BYTES,
    unsafe_settings,
)
from toolwire.config.profiles import EnvName
from toolwire.config.sources import (
    DEFAULT_ENV_FILE,
    CheckedDotEnvSource,
    CheckedEnvSource,
    ProfileSource,
    dotenv_origin,
)
from toolwire.problems import problems
from toolwire.redaction import safe_argv, safe_url

MCP_SERVER_NAME: Final = r"^[A-Za-z0-9_.-]{1,64}$"

StrList = Annotated[list[str], NoDecode]
ScopeName = Annotated[str, Field(pattern=r"^\S+$")]
"""A scope as tokens carry it in `scope`: no spaces."""


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

    host: str = Field("127.0.0.1", description="Interface `toolwire serve` listens on.")
    port: int = Field(8080, ge=0, le=65535,
                      description="Port `toolwire serve` listens on; 0 picks a free one.")
    body_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a request body (`POST /agui`) may take to arrive; "
        "a slower one gets HTTP 408 and its connection is closed.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a new connection may take to send its first request "
        "head (idle and slowloris connections are dropped past it).")
    keepalive_s: float = Field(
        30.0, gt=0, description="Seconds an idle keep-alive HTTP connection is kept open.")
    max_pending_connections: int = Field(
        4096, ge=1, description="Connections that have not sent a request head yet, at most "
        "(keep it below the descriptor limit, `ulimit -n`); "
        "past it the one that waited longest is dropped.")
    workers: int = Field(
        1, ge=1, le=256,
        description="Worker processes `toolwire serve` runs on one port (gunicorn with "
        "aiohttp's worker); more than 1 needs `events.backend` = `redis`.")


class AuthSettings(BaseModel):
    """JWT verification and the development login endpoint."""

    jwt_secret: SecretStr = Field(
        SecretStr(DEFAULT_JWT_SECRET),
        description="Key that signs and verifies access tokens (HMAC). Staging and production "
        f"refuse the default and any key shorter than {MIN_SECRET_BYTES} bytes; production "
        "also one of few distinct characters (a repeated or typed-in pattern).")
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        "HS256", description="The one algorithm of tokens signed with `jwt_secret`.")
    token_ttl_s: int = Field(
        3600, gt=0, description="Lifetime in seconds of the tokens `POST /auth/token` issues "
        f"(production: at most {MAX_TOKEN_TTL_S}).")
    jwks_url: str | None = Field(
        None, pattern=r"^https?://",
        description="JWKS endpoint of your identity provider; when set, RS256/ES256/EdDSA "
        "tokens are verified with its keys (the key's algorithm, never the token's choice). "
        "HMAC tokens signed with `jwt_secret` are still accepted.")
    jwks_cache_s: float = Field(
        300.0, gt=0, description="Seconds the fetched JWKS is used before it is fetched again.")
    jwks_refresh_interval_s: float = Field(
        30.0, ge=0,
        description="Fewest seconds between two JWKS fetches caused by a token with an unknown "
        "`kid`, or between retries while the JWKS cannot be fetched (keys already fetched "
        "keep working meanwhile).")
    jwks_timeout_s: float = Field(
        5.0, gt=0, description="Seconds a JWKS fetch may take.")
    audience: str | None = Field(
        None, description="When set, tokens must carry this `aud` claim.")
    issuer: str | None = Field(None, description="When set, tokens must carry this `iss` claim.")
    leeway_s: float = Field(
        10.0, ge=0, description="Clock skew in seconds tolerated when checking `exp`, `nbf` "
        f"and `iat` (production: at most {MAX_LEEWAY_S:g}).")
    max_token_ttl_s: int = Field(
        24 * 3600, gt=0,
        description="Longest lifetime a token may claim (exp minus iat, or exp minus now "
                    "when it has no iat); longer-lived tokens are refused (production: at most "
                    f"{MAX_TOKEN_TTL_S}).")
    dev_login: bool = Field(
        False, description="Serve `POST /auth/token`, which issues a token for any user id. "
        "Never allowed in production.")
    allowed_origins: StrList = Field(
        default_factory=list,
        description="Browser origins allowed to open `/ws` and to call the HTTP API and "
        "`POST /agui` from a page (CORS), comma-separated or a JSON list; `*` allows any "
        "origin. An empty list lets any origin open `/ws` outside production (which "
        "requires it to be set) and answers no CORS preflight.")

    _split = field_validator("allowed_origins", mode="before")(_split_list)


class EventsSettings(BaseModel):
    """Which event bus carries run events, and how the Redis bus uses its server."""

    backend: Literal["memory", "redis"] = Field(
        "memory", description="`memory` for one process; `redis` to share runs between "
        "instances.")
    redis_url: SecretStr = Field(
        SecretStr("redis://127.0.0.1:6379/0"),
        description="Redis connection URL of the `redis` backend (may carry a password).")
    redis_prefix: str = Field(
        "toolwire", description="Prefix of every Redis key and channel toolwire uses.")
    redis_cluster: bool = Field(
        False, description="Use Redis Cluster (`redis_url` names any node).")
    redis_pool_size: int = Field(
        32, gt=1, description="Redis command connections per instance; when all are busy a "
        "command waits (see `redis_pool_timeout_s`) instead of failing.")
    redis_pool_timeout_s: float = Field(
        0.5, gt=0, description="Seconds a Redis command waits for a free connection, and "
        "how long readiness and a new chat wait for Redis to answer before they are refused "
        "(a frozen Redis refuses a chat within this).")
    redis_keepalive_s: float = Field(
        5.0, gt=0, description="A Redis pub/sub connection silent this long (despite a ping) "
        "is replaced, and what it missed is refilled from the run streams.")
    redis_reconnect_max_s: float = Field(
        2.0, gt=0, description="Longest wait between attempts to reconnect to Redis pub/sub.")
    redis_tls_ca_file: str | None = Field(
        None, description="PEM file of the CAs a `rediss://` server's certificate must chain "
        "to (default: the system's trusted CAs); the certificate must name the URL's host.")
    redis_tls_cert_file: str | None = Field(
        None, description="PEM client certificate presented to a `rediss://` server that "
        "asks for one (`tls-auth-clients`); needs `redis_tls_key_file`.")
    redis_tls_key_file: str | None = Field(
        None, description="PEM private key of `redis_tls_cert_file`.")

    @model_validator(mode="after")
    def _redis_connection(self) -> EventsSettings:
        """Refuse an unknown URL scheme, TLS files the URL would not use, and a certificate
        without its key."""
        scheme = urlsplit(self.redis_url.get_secret_value()).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(f"events.redis_url must start with redis://, rediss:// or "
                             f"unix://, not {scheme}://")
        files = [self.redis_tls_ca_file, self.redis_tls_cert_file, self.redis_tls_key_file]
        if any(files) and scheme != "rediss":
            raise ValueError("events.redis_tls_* files are set but events.redis_url does not "
                             "start with rediss://")
        if (self.redis_tls_cert_file is None) != (self.redis_tls_key_file is None):
            raise ValueError("events.redis_tls_cert_file and events.redis_tls_key_file go "
                             "together")
        return self


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
    scopes: list[ScopeName] = Field(
        default_factory=list,
        description="Scopes a user needs to see and call the server's tools (all of them).",
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
        """Return where the server is, without secrets: its argv, or its URL, both redacted."""
        if self.command is not None:
            return "stdio: " + " ".join(safe_argv(self.command))
        return "url: " + safe_url(self.url or "")


class ToolsSettings(BaseModel):
    """Tool timeouts, the built-ins that are on, modules that add tools, and MCP servers."""

    timeout_s: float = Field(
        30.0, gt=0, description="Seconds a tool call may take before it ends with "
        "`status: timeout`.")
    timeouts: dict[str, float] = Field(
        default_factory=dict,
        description='Per-tool timeouts in seconds, a JSON object such as `{"book_search": 5}`.')
    max_result_bytes: int = Field(
        1024 * 1024, gt=0,
        description="Largest tool result, in bytes of JSON; a larger one (of a Python or an "
        "MCP tool) ends the call with `status: error`, `error.type` `result_too_large`. Keep "
        "it well under `ws.send_queue_bytes` and `runs.retained_bytes_per_user`.")
    sleep_enabled: bool = Field(
        False, description="Offer the `sleep` built-in tool (for tests and demos).")
    modules: StrList = Field(
        default_factory=list,
        description="Modules whose top-level `@tool` functions are loaded (comma-separated "
        "or a JSON list).")
    enabled: StrList | None = Field(
        None, description="Only these built-in tools are on (unset: all of them).")
    disabled: StrList = Field(
        default_factory=list, description="Built-in tools that are off.")
    scopes: dict[str, list[ScopeName]] = Field(
        default_factory=dict,
        description='Scopes a user needs to see and call a tool, per tool name, a JSON object '
        'such as `{"sleep": ["admin"]}`; a user needs all of them. It replaces what the tool '
        "(`@tool(scopes=...)`) or its MCP server (`scopes`) asks for; `[]` opens a tool to "
        "every user.")

    mcp_servers: list[McpServerSettings] = Field(
        default_factory=list,
        description="MCP servers whose tools join the registry at start-up (a JSON list of "
        '`{"name", "command": [...], "env"?}` or `{"name", "url", "headers"?}`, each with an '
        "optional `prefix` and `scopes`, the scopes a user needs for the server's tools).",
    )
    mcp_on_unavailable: Literal["error", "warn"] = Field(
        "error",
        description="A server that cannot be reached at start-up: `error` stops start-up, "
        "`warn` logs a warning and starts without its tools.",
    )
    mcp_connect_timeout_s: float = Field(
        10.0, gt=0,
        description="How long start-up (and a reconnection) waits for an MCP server to answer; "
        "also how long a server may take to answer the ping that follows a call that timed "
        "out, before it is restarted.",
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


class RunsSettings(BaseModel):
    """Limits and retention of agent runs."""

    max_tool_calls: int = Field(
        32, ge=0, description="Tool calls a run may make; one more ends it with "
        "`limit_exceeded`.")
    max_duration_s: float = Field(
        300.0, gt=0, description="Seconds a run may take before it ends with "
        "`limit_exceeded`.")
    retention_s: float = Field(
        900.0, ge=0, description="Seconds a run's events stay resumable (and its "
        "`request_id` remembered) after it ends.")
    max_events: int = Field(
        10_000, gt=0, description="Events kept per run for `resume`; older ones are dropped.")
    retained_bytes_per_user: int = Field(
        16 * 1024 * 1024, ge=0, description="Bytes of ended runs' event logs kept per user "
        "(memory bus); past it the user's oldest ended runs are dropped and `resume` of them "
        "answers `not_found`. On Redis use `maxmemory` with `volatile-ttl`.")
    retained_bytes: int = Field(
        256 * 1024 * 1024, ge=0, description="Bytes of ended runs' event logs kept in all "
        "(memory bus); past it the oldest ended runs are dropped first.")
    shutdown_grace_s: float = Field(
        10.0, ge=0, description="Seconds running runs get to finish on SIGTERM before "
        "they are cancelled.")
    lease_s: float = Field(
        10.0, gt=0, description="Redis bus: an instance renews the lease of each run it runs "
        "every third of this; when it dies, another instance ends its runs (`interrupted`) "
        "within about this long.")
    cancel_on_disconnect: bool = Field(
        False, description="Cancel a user's runs when their last socket closes, on every "
        "instance (otherwise runs go on and stay resumable).")

    @property
    def longest_run_s(self) -> float:
        """Return how long a run can possibly last: its limit, then its end's publish retries."""
        return 2 * self.max_duration_s + self.lease_s


class ThreadsSettings(BaseModel):
    """Conversations: what a thread keeps, what an agent sees of it, and busy threads."""

    max_turns: int = Field(
        50, ge=0, description="Earlier turns of its thread an agent sees at most (the "
        "oldest are left out first).")
    max_history_bytes: int = Field(
        256 * 1024, ge=0, description="Bytes (of the turns' JSON) of history an agent sees "
        "at most; the oldest turns are left out first, never a turn cut in half.")
    max_result_chars: int = Field(
        4000, ge=0, description="Characters of each tool result a stored turn keeps; a "
        "longer result is kept as its JSON text cut to this length.")
    max_stored_turns: int = Field(
        1000, gt=0, description="Turns a thread keeps; past it its oldest turns are dropped.")
    retention_s: float = Field(
        30 * 24 * 3600.0, gt=0, description="Seconds an idle thread is kept (Redis "
        "expires it, the memory store drops it).")
    max_bytes_per_user: int = Field(
        16 * 1024 * 1024, gt=0, description="Bytes of turns kept per user (memory store); "
        "past it the user's least recently active threads are dropped first.")
    max_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Bytes of turns kept in all (memory store); "
        "past it the least recently active threads are dropped first.")
    on_busy: Literal["reject", "enqueue", "interrupt"] = Field(
        "reject", description="A chat on a thread whose run is still going: `reject` "
        "(error `conflict` naming that run), `enqueue` (starts when it ends) or "
        "`interrupt` (cancels it, then starts).")
    list_limit: int = Field(
        50, gt=0, le=500, description="Threads `GET /threads` returns when the request "
        "sets no `limit` (it may ask for up to 500).")


class WsSettings(BaseModel):
    """WebSocket transport limits."""

    max_message_bytes: int = Field(
        1024 * 1024, gt=0, description="Largest client frame in bytes; a larger one closes "
        "the socket with 1009.")
    send_queue: int = Field(
        1024, gt=0, description="Frames queued for a socket that does not read; one more "
        "closes it with 1008.")
    send_queue_bytes: int = Field(
        4 * 1024 * 1024, gt=0,
        description="Bytes a socket may have waiting to be sent; past this (or past "
                    "send_queue frames) the server gives up on it: close 1008 slow consumer.")
    close_timeout_s: float = Field(
        5.0, gt=0,
        description="How long a closing handshake may take before the connection is aborted.")
    heartbeat_s: float = Field(
        20.0, gt=0, description="Seconds between server pings; a peer that does not answer "
        "is closed.")


class LimitsSettings(BaseModel):
    """Per-user quotas."""

    sockets_per_user: int = Field(
        10, gt=0, description="Open sockets per user; one more is refused with HTTP 429.")
    runs_per_user: int = Field(
        4, gt=0, description="Runs per user going at once; one more chat gets "
        "`rate_limited`.")
    chats_per_minute: int = Field(
        60, gt=0, description="Chats per user in any 60 seconds; one more gets "
        "`rate_limited`.")


class LegacySettings(BaseModel):
    """How the deprecated factory entry points behave."""

    mode: Literal["warn", "error", "off"] = Field(
        "warn", description="What a call of a deprecated factory does: `warn` "
        "(DeprecationWarning), `error` (raises) or `off` (silent).")
    removal_date: date | None = Field(
        None, description="Removal date the warnings announce (unset: 30 days after the "
        "deprecating release).")


DEFAULT_SYSTEM_PROMPT: Final = (
    "You are a helpful assistant. Call the tools you are given when they help, "
    "then answer briefly."
)


class AgentSettings(BaseModel):
    """Which agent answers chats, and how the `openai` backend reaches its model."""

    backend: Literal["embedded", "openai"] = Field(
        "embedded", description="`embedded`: the deterministic agent, no network; "
        "`openai`: an OpenAI-compatible chat-completions API.")
    base_url: str = Field(
        "https://api.openai.com/v1",
        description="Base URL of the `openai` backend's API (`{base_url}/chat/completions`).")
    api_key: SecretStr | None = Field(
        None, description="API key of the `openai` backend; required with it.")
    model: str = Field("gpt-4o-mini", description="Model name the `openai` backend asks for.")
    request_timeout_s: float = Field(
        60.0, gt=0,
        description="Longest wait for the model API, in seconds: to connect, and between "
        "two streamed chunks.")
    max_retries: int = Field(
        2, ge=0,
        description="Retries of a model request that failed with 408/409/429/5xx, a timeout or "
        "a connection error, with exponential backoff (`Retry-After` honoured).")
    max_steps: int = Field(
        8, gt=0, description="Model turns per run before it ends with `limit_exceeded`.")
    system_prompt: str = Field(
        DEFAULT_SYSTEM_PROMPT, description="System message sent to the model first.")
    think_chars: int = Field(
        400, gt=0,
        description="Streamed model text is sent as an `agent_thinking` once this many "
        "characters wait...")
    think_interval_s: float = Field(
        0.5, ge=0,
        description="... or once this many seconds passed since the stream's last "
        "`agent_thinking`.")

    @model_validator(mode="after")
    def _openai_needs_a_key(self) -> AgentSettings:
        if self.backend == "openai" and not (self.api_key and self.api_key.get_secret_value()):
            raise ValueError(
                "set TOOLWIRE_AGENT__API_KEY to the model API's key "
                "(TOOLWIRE_AGENT__BACKEND=openai needs one)"
            )
        return self


class Settings(BaseSettings):
    """All of toolwire's settings; `TOOLWIRE_ENV` picks the profile defaults."""

    model_config = SettingsConfigDict(
        env_prefix="TOOLWIRE_",
        env_nested_delimiter="__",
        env_file=None,  # `.env` is read by CheckedDotEnvSource, which names it in errors
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    env: EnvName = Field(
        "development", description="Profile whose defaults apply: `development`, `test`, "
        "`staging` or `production`.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Lowest level of log records written to stderr.")
    log_format: Literal["text", "json"] = Field(
        "text", description="`text`: readable lines; `json`: one JSON object per line, for "
        "log collectors.")
    server: ServerSettings = Field(default_factory=ServerSettings, description="Listening.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Authentication.")
    events: EventsSettings = Field(default_factory=EventsSettings, description="Event bus.")
    tools: ToolsSettings = Field(default_factory=ToolsSettings, description="Tools.")
    runs: RunsSettings = Field(default_factory=RunsSettings, description="Agent runs.")
    threads: ThreadsSettings = Field(
        default_factory=ThreadsSettings, description="Conversations (threads).")
    ws: WsSettings = Field(default_factory=WsSettings, description="WebSocket transport.")
    limits: LimitsSettings = Field(default_factory=LimitsSettings, description="Quotas.")
    legacy: LegacySettings = Field(
        default_factory=LegacySettings, description="Deprecated entry points.")
    agent: AgentSettings = Field(default_factory=AgentSettings, description="The agent.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env = CheckedEnvSource(settings_cls)
        dotenv = CheckedDotEnvSource(settings_cls, DEFAULT_ENV_FILE)
        profile = ProfileSource(settings_cls, init_settings, env, dotenv)
        return init_settings, env, dotenv, file_secret_settings, profile

    @model_validator(mode="after")
    def _refuse_unsafe_settings(self) -> Settings:
        problems = unsafe_settings(self)
        if problems:
            raise ValueError(f"refusing unsafe {self.env} settings: " + "; ".join(problems))
        return self


def describe_settings_error(error: Exception) -> str:
    """Render a settings error, naming each variable, without echoing values (may be secrets)."""
    from pydantic import ValidationError

    if isinstance(error, SettingsError):
        return f"invalid settings: {error}"
    if not isinstance(error, ValidationError):
        return str(error)
    variables = {field.path: field.variable for field in walk(Settings)}
    lines = []
    for loc, message in problems(error):
        known = [loc[:n] for n in range(len(loc), 0, -1) if loc[:n] in variables]
        where = ".".join(loc)
        if known:
            variable = variables[known[0]]
            origin = dotenv_origin(variable)
            where += f" ({variable} in {origin})" if origin else f" ({variable})"
        lines.append(f"{where}: {message}" if loc else message)
    return "invalid settings: " + "\n  ".join(lines)
