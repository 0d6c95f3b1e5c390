"""Settings: one pydantic-settings model with environment profiles."""

from toolwire.config.policy import unsafe_production_settings
from toolwire.config.settings import (
    AgentSettings,
    AuthSettings,
    EventsSettings,
    LegacySettings,
    LimitsSettings,
    McpServerSettings,
    RunsSettings,
    ServerSettings,
    Settings,
    ThreadsSettings,
    ToolsSettings,
    WsSettings,
    describe_settings_error,
)
from toolwire.config.sources import SettingsWarning

__all__ = [
    "AgentSettings",
    "AuthSettings",
    "EventsSettings",
    "LegacySettings",
    "LimitsSettings",
    "McpServerSettings",
    "RunsSettings",
    "ServerSettings",
    "Settings",
    "SettingsWarning",
    "ThreadsSettings",
    "ToolsSettings",
    "WsSettings",
    "describe_settings_error",
    "unsafe_production_settings",
]
