"""Serving on many cores: toolwire's app for any process manager, and `serve --workers N`.

`app` is the factory a process manager imports in each worker process:

    gunicorn 'toolwire.serving:app' --worker-class aiohttp.GunicornWebWorker \\
        --bind 127.0.0.1:8080 --workers 2 --graceful-timeout 20

Each worker builds its own container from the environment, so every worker reads the same
settings; with more than one worker they must share the Redis event bus. `serve_workers`
runs that same line in-process with gunicorn's arbiter, which replaces a worker that dies
and drains every worker on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sys
from typing import Any, Final

from aiohttp import web
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

from toolwire.adapters.web.guard import guarded_runner, quiet_accept_failures
from toolwire.adapters.web.heap import freeze_after_startup
from toolwire.config import Settings
from toolwire.config.fields import secret_values
from toolwire.container import create_app, create_container
from toolwire.logs import configure_logging

log = logging.getLogger(__name__)

WORKER_CLASS: Final = "aiohttp.GunicornWebWorker"
DRAIN_MARGIN_S: Final = 5.0
"""How much longer than the runs' grace and the sockets' close timeout a worker may drain."""


class WorkersNeedRedisError(ValueError):
    """Several workers were asked for on the in-memory event bus."""


def check_workers(settings: Settings, workers: int) -> None:
    """Raise `WorkersNeedRedisError` unless `workers` processes can share the event bus."""
    if workers > 1 and settings.events.backend != "redis":
        raise WorkersNeedRedisError(
            f"{workers} workers need a shared event bus: set TOOLWIRE_EVENTS__BACKEND=redis "
            "(and TOOLWIRE_EVENTS__REDIS_URL), or serve with one worker")


def drain_timeout_s(settings: Settings) -> float:
    """Return how long a worker may take to drain on SIGTERM before it is killed."""
    return settings.runs.shutdown_grace_s + settings.ws.close_timeout_s + DRAIN_MARGIN_S


async def app() -> web.AppRunner:
    """Build this worker's container and app; return its runner for aiohttp's worker.

    The runner writes the token-safe access log (no query strings) and gives the graceful
    shutdown its whole bound.
    """
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format, secret_values(settings),
                      show_pid=True)
    quiet_accept_failures(asyncio.get_running_loop())
    web_app = create_app(create_container(settings))
    freeze_after_startup(web_app)
    return guarded_runner(web_app, settings.server, shutdown_timeout=drain_timeout_s(settings))


class WorkerArbiter(BaseApplication):  # type: ignore[misc]
    """gunicorn's arbiter configured from toolwire's settings, serving `app` in each worker."""

    def __init__(self, settings: Settings, *, host: str, port: int, workers: int) -> None:
        self._options: dict[str, Any] = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": WORKER_CLASS,
            "graceful_timeout": math.ceil(drain_timeout_s(settings)),
            "timeout": 30,  # a worker whose loop is stuck this long is killed and replaced
            "loglevel": settings.log_level.lower(),
            "when_ready": _announce,
            "proc_name": "toolwire",
            "control_socket_disable": True,  # no control interface: instances would share its path
        }
        super().__init__()

    def load_config(self) -> None:
        """Hand gunicorn our options (never its command line: ours was parsed by click)."""
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """Return the factory each worker awaits after the fork."""
        return app


def serve_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Run `workers` worker processes on `host:port` until SIGTERM drains them all."""
    check_workers(settings, workers)
    WorkerArbiter(settings, host=host, port=port, workers=workers).run()


def _announce(arbiter: Arbiter) -> None:
    """Say where the workers listen, as `toolwire serve` does with one process."""
    for listener in arbiter.LISTENERS:
        host, port = listener.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"listening on http://{shown}:{port} ({arbiter.num_workers} workers)",
              file=sys.stderr, flush=True)
