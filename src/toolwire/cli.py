"""The `toolwire` command line: each command is imported only when it runs."""

from __future__ import annotations

from importlib import import_module

import click

from toolwire._version import __version__

# name -> "module:attribute"; a light command (check, --help) never imports aiohttp or redis.
COMMANDS = {
    "run": "toolwire.commands.run:run",
    "serve": "toolwire.commands.serve:serve",
    "chat": "toolwire.commands.chat:chat",
    "config": "toolwire.commands.config:config",
    "tools": "toolwire.commands.tools:tools",
    "check": "toolwire.commands.check:check",
    "stand-in-model": "toolwire.commands.stand_in_model:stand_in_model",
    "graph": "toolwire.commands.graph:graph",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        command = getattr(import_module(module_name), attribute)
        assert isinstance(command, click.Command), target
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolwire", message="%(prog)s %(version)s")
def main() -> None:
    """toolwire: request-scoped AI-agent runs with live WebSocket events."""


if __name__ == "__main__":  # pragma: no cover
    main()
