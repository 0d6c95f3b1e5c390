"""`toolwire chat`: talk to a running server over its WebSocket."""

from __future__ import annotations

import asyncio
import sys
from typing import Final

import click

from toolwire.commands.chat_client import (
    EXIT_OK,
    EXIT_UNREACHABLE,
    ChatClient,
    ChatUnavailableError,
    render_thread,
)
from toolwire.services.context import new_id

DEFAULT_URL = "http://127.0.0.1:8080"
HELP: Final = ("Type a message and press Enter; each message sees the ones before it. "
              "/help shows this line; /quit or Ctrl-D leaves.")
LEAVE: Final = frozenset({"/quit", "/exit", "exit", "quit"})


@click.command()
@click.option("--url", default=DEFAULT_URL, show_default=True,
              help="Server URL, with its path prefix if mounted (http://host/agent).")
@click.option("--token", envvar="TOOLWIRE_TOKEN", show_envvar=True, default=None,
              help="Access token (JWT) to connect with; without one, a development token "
                   "is fetched from POST /auth/token.")
@click.option("--user", "user_id", default="cli", show_default=True,
              help="User to get a development token for (ignored with --token).")
@click.option("--json", "as_json", is_flag=True, help="Print the raw JSON frames.")
@click.option("--thread", "thread_id", default=None, metavar="ID",
              help="Continue this thread (conversation); without it a chat starts a new one.")
@click.option("--list", "list_threads", is_flag=True,
              help="List the user's threads, most recently active first, and exit.")
@click.argument("message", required=False)
def chat(url: str, token: str | None, user_id: str, as_json: bool, thread_id: str | None,
         list_threads: bool, message: str | None) -> None:
    """Send MESSAGE (or chat interactively) and print the run's events live.

    An interactive session is one thread: each message sees the ones before it. Leave with
    /quit or Ctrl-D. Exit 0 when the run ends ok, 1 when it ends otherwise, 2 when the
    server cannot be reached or refuses the connection.
    """
    try:
        code = asyncio.run(_chat(url, token or None, user_id, as_json, message, thread_id,
                                 list_threads))
    except ChatUnavailableError as exc:
        click.echo(f"Error: {exc}", err=True)
        code = EXIT_UNREACHABLE
    sys.exit(code)


async def _chat(
    url: str, token: str | None, user_id: str, as_json: bool, message: str | None,
    thread_id: str | None, list_threads: bool,
) -> int:
    async with ChatClient(url, user_id, click.echo, token=token, as_json=as_json) as client:
        if list_threads:
            for thread in await client.threads():
                click.echo(render_thread(thread))
            return EXIT_OK
        if message is not None:
            return await client.chat(message, thread_id)
        thread_id = thread_id or new_id("t")
        click.echo(HELP, err=True)
        click.echo(f"thread {thread_id} (continue it later with --thread {thread_id})",
                   err=True)
        while True:
            line = await asyncio.to_thread(_prompt)
            if line is None:
                return EXIT_OK
            if line.strip() == "/help":
                click.echo(HELP, err=True)
            elif line.strip():
                await client.chat(line, thread_id)


def _prompt() -> str | None:
    try:
        text: str = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
    except (click.Abort, EOFError):
        return None
    return None if text.strip() in LEAVE else text
