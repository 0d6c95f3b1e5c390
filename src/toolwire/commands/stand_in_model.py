"""`toolwire stand-in-model`: an OpenAI-compatible stand-in to try `agent.backend=openai`."""

from __future__ import annotations

import asyncio
import signal

import click
from aiohttp import web

from toolwire.adapters.stand_in_model import create_stand_in_app


@click.command("stand-in-model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8099, show_default=True,
              help="Port to listen on; 0 picks a free one.")
def stand_in_model(host: str, port: int) -> None:
    """Serve a deterministic stand-in for an OpenAI-compatible chat-completions API.

    Point toolwire at the URL it prints (TOOLWIRE_AGENT__BASE_URL, any
    TOOLWIRE_AGENT__API_KEY): arithmetic calls calculator, time questions call clock,
    `/call TOOL JSON` calls that tool, and the tools' results come back as the answer.
    """
    try:
        asyncio.run(_serve(host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


async def _serve(host: str, port: int) -> None:
    runner = web.AppRunner(create_stand_in_app(), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        for bound_host, bound_port, *_ in runner.addresses:
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            click.echo(f"stand-in model listening on http://{shown}:{bound_port}/v1", err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
