"""`toolwire run MESSAGE`: one run in-process; its events as JSON lines on stdout."""

from __future__ import annotations

import asyncio
import sys

import click

from toolwire.commands.common import build_container
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, close_resources, start_resources
from toolwire.redaction import safe_url
from toolwire.services.context import UserExecutionContext
from toolwire.services.errors import ToolwireError
from toolwire.services.events import RunEvent


@click.command()
@click.option("--user", "user_id", default="cli", show_default=True, help="User id of the run.")
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="A scope the user has (repeat for several): tools that need others are "
                   "forbidden.")
@click.argument("message")
def run(user_id: str, scopes: tuple[str, ...], message: str) -> None:
    """Run MESSAGE once in-process and print its events as JSON lines."""
    if not message:  # the WebSocket protocol refuses an empty chat message too
        raise click.BadParameter("must not be empty", param_hint="MESSAGE")
    container = build_container()
    try:
        status = asyncio.run(run_once(container, user_id, message, frozenset(scopes)))
    except ToolwireError as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(0 if status == "ok" else 1)


async def run_once(container: ApplicationContainer, user_id: str, message: str,
                   scopes: frozenset[str] = frozenset()) -> str:
    """Run `message` for `user_id` with `scopes`, echo the run's events, close the container;
    return the run's status.

    Raises `click.ClickException` at once, naming the bus, when the event bus does not answer.
    """
    ctx = UserExecutionContext.for_user(user_id, scopes=scopes)
    bus = container.event_bus()
    if not await bus.ping():
        await close_resources(container)
        raise click.ClickException(
            f"the event bus does not answer: {describe_bus(container.settings())}")

    def show(event: RunEvent) -> None:
        if event.run_id == ctx.run_id:
            click.echo(event.to_json())

    subscription = await bus.subscribe(user_id, show)
    try:
        await start_resources(container)  # MCP tools join the registry first
        async with container.request_scope(ctx) as scope:
            final = await scope.run(message)
    finally:
        await subscription.close()
        await close_resources(container)
    return final.status


def describe_bus(settings: Settings) -> str:
    """Name the configured event bus, without the user info or query of its URL."""
    events = settings.events
    if events.backend == "redis":
        return f"Redis at {safe_url(events.redis_url.get_secret_value())}"
    return f"the {events.backend} bus"
