"""`toolwire serve`: run the web app until SIGTERM/SIGINT, then shut down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

import click
from aiohttp import web

from toolwire.adapters.web import graceful_shutdown
from toolwire.adapters.web.guard import guarded_runner, quiet_accept_failures
from toolwire.adapters.web.heap import freeze_after_startup
from toolwire.commands.common import build_container
from toolwire.config import Settings
from toolwire.container import ApplicationContainer, create_app
from toolwire.services.errors import ToolwireError

log = logging.getLogger(__name__)


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default: server.host).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on; 0 picks a free one (default: server.port).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes on the one port (default: server.workers); more than "
              "one needs the Redis event bus.")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the WebSocket protocol and HTTP endpoints."""
    container = build_container()
    settings = container.settings()
    host = host or settings.server.host
    port = settings.server.port if port is None else port
    workers = settings.server.workers if workers is None else workers
    if workers > 1:
        _serve_workers(settings, host, port, workers)
        return
    try:
        asyncio.run(serve_until_signalled(container, host, port))
    except ToolwireError as exc:  # tool modules that fail to load, name clashes
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the address is taken or not ours
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None


async def serve_until_signalled(container: ApplicationContainer, host: str, port: int) -> None:
    """Listen on `host:port`; on SIGTERM/SIGINT drain runs, close sockets 1001 and return."""
    app = create_app(container)
    freeze_after_startup(app)
    quiet_accept_failures(asyncio.get_running_loop())
    runner = guarded_runner(app, container.settings().server, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        for bound_host, bound_port, *_ in runner.addresses:
            click.echo(f"listening on http://{_url_host(bound_host)}:{bound_port}", err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("signal received; shutting down")
        await graceful_shutdown(app)
    finally:
        await runner.cleanup()


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> None:
    """Hand the port to gunicorn's arbiter with `workers` aiohttp workers."""
    from toolwire.serving import WorkersNeedRedisError, serve_workers  # gunicorn: only here

    try:
        serve_workers(settings, host=host, port=port, workers=workers)
    except WorkersNeedRedisError as exc:
        raise click.ClickException(str(exc)) from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
