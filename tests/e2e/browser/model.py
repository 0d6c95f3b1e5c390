"""A scripted OpenAI-compatible model on a background thread, for the synchronous browser tests.

It plays the steps of tests/fixtures_models.py (streamed answers, tool calls) on a real
loopback port, so `toolwire serve --agent.backend=openai` can be pointed at it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.fixtures_models import API_KEY, MODEL, ScriptedModel, Step


@contextmanager
def model_server(*steps: Step) -> Iterator[ScriptedModel]:
    """Serve `steps` (one per request) on a free port until the block ends."""
    model = ScriptedModel(list(steps))
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", model.handle)
        app_runner = web.AppRunner(app)
        await app_runner.setup()
        site = web.TCPSite(app_runner, "127.0.0.1", 0)
        await site.start()
        port = app_runner.addresses[0][1]
        model.url = f"http://127.0.0.1:{port}/v1"
        runner.append(app_runner)
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    ready.wait(10)
    try:
        yield model
    finally:
        asyncio.run_coroutine_threadsafe(runner[0].cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def openai_env(model: ScriptedModel) -> dict[str, str]:
    """Return the `TOOLWIRE_…` variables that point `toolwire serve` at `model`, every
    streamed piece becoming its own `agent_thinking`."""
    return {"TOOLWIRE_AGENT__BACKEND": "openai", "TOOLWIRE_AGENT__BASE_URL": model.url,
            "TOOLWIRE_AGENT__API_KEY": API_KEY, "TOOLWIRE_AGENT__MODEL": MODEL,
            "TOOLWIRE_AGENT__THINK_CHARS": "1", "TOOLWIRE_AGENT__THINK_INTERVAL_S": "0"}
