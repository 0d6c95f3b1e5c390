"""The `toolwire` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from toolwire.commands.chat import chat
from toolwire.commands.check import check
from toolwire.commands.serve import serve
from toolwire.config import Settings, describe_settings_error
from toolwire.config.profiles import ENV_NAMES
from toolwire.container import ApplicationContainer, close_resources, create_container
from toolwire.logs import configure_logging
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ToolwireError
from toolwire.services.events import RunEvent


def load_settings(env: str | None = None) -> Settings:
    """Read settings (optionally for profile `env`); exit 2 with a clear message when invalid."""
    try:
        return Settings(env=env) if env else Settings()
    except Exception as exc:  # pydantic.ValidationError, .env problems
        raise click.ClickException(describe_settings_error(exc)) from None


def build_container(env: str | None = None) -> ApplicationContainer:
    """Return a container on the resolved settings, logging configured from them."""
    settings = load_settings(env)
    configure_logging(settings.log_level)
    return create_container(settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="toolwire")
def main() -> None:
    """toolwire: request-scoped AI-agent runs with live WebSocket events."""


@main.command()
@click.option("--user", "user_id", default="cli", show_default=True, help="User id of the run.")
@click.argument("message")
def run(user_id: str, message: str) -> None:
    """Run MESSAGE once in-process and print its events as JSON lines."""
    container = build_container()
    try:
        status = asyncio.run(_run_once(container, user_id, message))
    except ToolwireError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(0 if status == "ok" else 1)


async def _run_once(container: ApplicationContainer, user_id: str, message: str) -> str:
    ctx = UserExecutionContext.for_user(user_id)
    bus = container.event_bus()

    def show(event: RunEvent) -> None:
        if event.run_id == ctx.run_id:
            click.echo(event.to_json())

    subscription = await bus.subscribe(user_id, show)
    try:
        async with container.request_scope(ctx) as scope:
            final = await scope.run(message)
    finally:
        await subscription.close()
        await close_resources(container)
    return final.status


@main.group()
def config() -> None:
    """Inspect the resolved settings."""


@config.command("show")
@click.option("--env", type=click.Choice(ENV_NAMES), default=None,
              help="Profile to resolve (default: TOOLWIRE_ENV or development).")
def config_show(env: str | None) -> None:
    """Print the resolved settings as JSON, secrets masked."""
    settings = load_settings(env)
    click.echo(json.dumps(masked(settings), indent=2, sort_keys=True))


def masked(settings: Settings) -> dict[str, Any]:
    """Return the settings as JSON-ready data with every secret replaced by asterisks."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    return data


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def tools(as_json: bool) -> None:
    """List the available tools with their argument schemas."""
    container = build_container()
    try:
        specs = container.tool_registry().specs()
    except ToolwireError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([spec.describe() for spec in specs], indent=2))
        return
    for spec in specs:
        click.echo(f"{spec.name}: {spec.description}")
        schema = json.dumps(spec.json_schema(), separators=(",", ":"))
        click.echo(f"  args: {schema}")


# Commands that live in their own modules register here, one line each.
main.add_command(check)
main.add_command(serve)
main.add_command(chat)


if __name__ == "__main__":  # pragma: no cover
    main()
