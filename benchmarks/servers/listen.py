"""Run a peer server's aiohttp app on a free loopback port until SIGTERM, like `toolwire serve`."""

from __future__ import annotations

import asyncio
import signal
import sys

from aiohttp import web


async def serve_until_signalled(app: web.Application, host: str = "127.0.0.1") -> None:
    """Listen on a free port, say `listening on http://HOST:PORT` on stderr, stop on a signal."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, 0)
        await site.start()
        for bound_host, bound_port, *_ in runner.addresses:
            print(f"listening on http://{bound_host}:{bound_port}", file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
