"""What several commands share: settings that fail cleanly and a container built from them."""

from __future__ import annotations

import click

from toolwire.config import Settings, describe_settings_error
from toolwire.container import ApplicationContainer, create_container
from toolwire.logs import configure_logging


def load_settings(env: str | None = None) -> Settings:
    """Read settings (optionally for profile `env`); exit 1 with a clear message when invalid."""
    try:
        return Settings(env=env) if env else Settings()
    except Exception as exc:  # pydantic.ValidationError, .env problems
        raise click.ClickException(describe_settings_error(exc)) from None


def build_container(env: str | None = None) -> ApplicationContainer:
    """Return a container on the resolved settings, logging configured from them."""
    settings = load_settings(env)
    configure_logging(settings.log_level)
    return create_container(settings)
