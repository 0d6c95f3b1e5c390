"""No access log line carries a token, for `toolwire serve` and for a host that mounts toolwire."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_log import AccessLogger

from tests.e2e.helpers import e2e_settings
from tests.e2e.served import serve, token
from tests.support import eventually, free_port
from toolwire import PathOnlyAccessLogger, create_app, create_container


async def test_toolwire_serve_logs_the_path_but_never_the_token() -> None:
    async with serve(TOOLWIRE_LOG_LEVEL="INFO") as served, aiohttp.ClientSession() as session:
        bearer = await token(session, served.url, "ada")
        ws = await session.ws_connect(f"{served.ws_url}?access_token={bearer}")
        await ws.close()
        await session.get(f"{served.url}/healthz?access_token={bearer}")
        await served.stop()
    access = [line for line in served.log if '"GET /ws' in line or '"GET /healthz' in line]
    assert len(access) >= 2, served.log
    assert not [line for line in served.log if bearer in line or "access_token" in line]


async def served_host_lines(access_log_class: type[AbstractAccessLogger],
                            caplog: pytest.LogCaptureFixture) -> list[str]:
    """Serve a host app that mounts toolwire as a host would (a plain `AppRunner`)."""
    host = web.Application()
    host.add_subapp("/agent", create_app(create_container(e2e_settings())))
    runner = web.AppRunner(host, access_log_class=access_log_class)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    try:
        async with aiohttp.ClientSession() as session:
            bearer = await token(session, f"http://127.0.0.1:{port}/agent", "ada")
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{port}/agent/ws?access_token={bearer}")
            await ws.close()
            await eventually(lambda: any("/agent/ws" in r.getMessage()  # once the handler
                                         for r in caplog.records))  # has returned
    finally:
        await runner.cleanup()
    return [r.getMessage() for r in caplog.records if "/agent/ws" in r.getMessage()]


async def test_a_host_serving_with_the_guard_logs_paths_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines = await served_host_lines(PathOnlyAccessLogger, caplog)
    assert lines
    assert not any("access_token" in line for line in lines)


async def test_without_the_guard_aiohttp_would_log_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Why hosts need the guard: aiohttp's own access log writes the whole request line."""
    lines = await served_host_lines(AccessLogger, caplog)
    assert any("access_token=" in line for line in lines)
