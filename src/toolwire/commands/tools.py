"""`toolwire tools`: the available tools (built-in, custom and MCP) with their argument schemas."""

from __future__ import annotations

import asyncio
import json

import click

from toolwire.commands.common import build_container
from toolwire.container import ApplicationContainer, close_resources, start_resources
from toolwire.services.errors import ToolwireError
from toolwire.services.tools.spec import ToolSpec


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def tools(as_json: bool) -> None:
    """List the available tools with their argument schemas and the scopes they need."""
    container = build_container()
    try:
        specs = asyncio.run(list_tools(container))
    except ToolwireError as exc:
        raise click.ClickException(str(exc)) from None
    needs = container.tool_permissions().required
    if as_json:
        listed = [{**spec.describe(), "origin": spec.origin, "scopes": sorted(needs(spec))}
                  for spec in specs]
        click.echo(json.dumps(listed, indent=2))
        return
    for spec in specs:
        click.echo(f"{spec.name}: {spec.description}")
        click.echo(f"  from: {spec.origin}")
        if needs(spec):
            click.echo(f"  scopes: {' '.join(sorted(needs(spec)))}")
        schema = json.dumps(spec.json_schema(), separators=(",", ":"))
        click.echo(f"  args: {schema}")


async def list_tools(container: ApplicationContainer) -> list[ToolSpec]:
    """Return every tool, MCP servers' included (they are connected, listed, then closed)."""
    try:
        await start_resources(container)
        return container.tool_registry().specs()
    finally:
        await close_resources(container)
