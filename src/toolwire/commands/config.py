"""`toolwire config show`: the resolved settings, secrets masked, URLs and argv redacted."""

from __future__ import annotations

import json
from typing import Any

import click

from toolwire.commands.common import load_settings
from toolwire.config import Settings
from toolwire.config.profiles import ENV_NAMES
from toolwire.redaction import safe_argv, safe_url


@click.group()
def config() -> None:
    """Inspect the resolved settings."""


@config.command("show")
@click.option("--env", type=click.Choice(ENV_NAMES), default=None,
              help="Profile to resolve (default: TOOLWIRE_ENV or development).")
def config_show(env: str | None) -> None:
    """Print the resolved settings as JSON, secrets masked."""
    settings = load_settings(env)
    click.echo(json.dumps(shown_settings(settings), indent=2, sort_keys=True))


def shown_settings(settings: Settings) -> dict[str, Any]:
    """Return the settings as JSON data fit to show: every secret, credential and query masked.

    JSON mode renders every `SecretStr` as "**********"; URLs lose their user info and query
    string, MCP servers' argv their credential-like values.
    """
    data = settings.model_dump(mode="json")
    data["agent"]["base_url"] = safe_url(data["agent"]["base_url"])
    for server in data["tools"]["mcp_servers"]:
        if server.get("url"):
            server["url"] = safe_url(server["url"])
        if server.get("command"):
            server["command"] = safe_argv(server["command"])
    return data


@config.command("docs")
def config_docs() -> None:
    """Print the reference of every setting as Markdown (the source of docs/configuration.md)."""
    from toolwire.config.reference import render_reference

    click.echo(render_reference(), nl=False)
