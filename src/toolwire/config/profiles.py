"""Per-environment defaults; explicit settings always win over these."""

from typing import Any, Final, Literal

EnvName = Literal["development", "test", "staging", "production"]

ENV_NAMES: Final[tuple[EnvName, ...]] = ("development", "test", "staging", "production")

PROFILES: Final[dict[str, dict[str, Any]]] = {
    "development": {
        "log_level": "INFO",
        "log_format": "text",
        "auth": {"dev_login": True},
        "tools": {"sleep_enabled": True},
    },
    "test": {
        "log_level": "WARNING",
        "log_format": "text",
        "auth": {"dev_login": True},
        "tools": {"sleep_enabled": True},
    },
    "staging": {
        "log_level": "INFO",
        "log_format": "json",
        "auth": {"dev_login": False},
        "tools": {"sleep_enabled": False},
    },
    "production": {
        "log_level": "INFO",
        "log_format": "json",
        "server": {"host": "0.0.0.0"},  # production listens on all interfaces
        "auth": {"dev_login": False},
        "tools": {"sleep_enabled": False},
    },
}
