"""What several commands share: settings that fail cleanly and a container built from them."""

from __future__ import annotations

import warnings

import click

from toolwire.config import Settings, SettingsWarning, describe_settings_error
from toolwire.config.fields import secret_values
from toolwire.container import ApplicationContainer, create_container
from toolwire.logs import configure_logging


def load_settings(env: str | None = None) -> Settings:
    """Read settings (optionally for profile `env`); exit 1 with a clear message when invalid.

    A `TOOLWIRE_` variable that no setting reads is reported on stderr as one
    `Warning: …` line naming the closest real setting.
    """
    problem: Exception | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingsWarning)
        try:
            settings = Settings(env=env) if env else Settings()
        except Exception as exc:  # pydantic.ValidationError, SettingsError (.env, JSON)
            problem = exc
    _report(caught)
    if problem is not None:
        raise click.ClickException(describe_settings_error(problem))
    return settings


def build_container(env: str | None = None) -> ApplicationContainer:
    """Return a container on the resolved settings, logging configured from them."""
    settings = load_settings(env)
    configure_logging(settings.log_level, settings.log_format, secret_values(settings))
    return create_container(settings)


def _report(caught: list[warnings.WarningMessage]) -> None:
    shown: set[str] = set()
    for warning in caught:
        if not issubclass(warning.category, SettingsWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
        elif str(warning.message) not in shown:
            shown.add(str(warning.message))
            click.echo(f"Warning: {warning.message}", err=True)
