"""`toolwire config show`: the resolved settings, secrets masked."""

from __future__ import annotations

import json

import click

from toolwire.commands.common import load_settings
from toolwire.config.profiles import ENV_NAMES


@click.group()
def config() -> None:
    """Inspect the resolved settings."""


@config.command("show")
@click.option("--env", type=click.Choice(ENV_NAMES), default=None,
              help="Profile to resolve (default: TOOLWIRE_ENV or development).")
def config_show(env: str | None) -> None:
    """Print the resolved settings as JSON, secrets masked."""
    settings = load_settings(env)
    # JSON mode renders every SecretStr as "**********".
    click.echo(json.dumps(settings.model_dump(mode="json"), indent=2, sort_keys=True))


@config.command("docs")
def config_docs() -> None:
    """Print the reference of every setting as Markdown (the source of docs/configuration.md)."""
    from toolwire.config.reference import render_reference

    click.echo(render_reference(), nl=False)
