"""`GET /metrics`: Prometheus counts of runs, sockets and legacy calls, and nothing private."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import ServerFactory, chat_run, connect, token_for
from tests.support import eventually
from toolwire.adapters.web.state import STATE

Client = TestClient[web.Request, web.Application]


async def scrape(client: Client) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for line in (await response.text()).splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


async def test_runs_and_sockets_are_counted(start_server: ServerFactory) -> None:
    client = await start_server()
    before = await scrape(client)
    assert before["toolwire_sockets_open"] == 0
    assert before["toolwire_runs_active"] == 0

    ws = await connect(client, "ada")
    assert (await scrape(client))["toolwire_sockets_open"] == 1
    await chat_run(ws, "what is 6*7?")
    await chat_run(ws, "/call clock {}")
    await ws.send_json({"type": "chat", "message": '/call sleep {"seconds": 30}'})
    await eventually(lambda: client.app[STATE].deps.runs().live_count == 1)
    run_id = (await ws.receive_json())["run_id"]
    await ws.send_json({"type": "cancel", "run_id": run_id})
    await eventually(lambda: client.app[STATE].deps.runs().live_count == 0)

    after = await scrape(client)
    assert after['toolwire_runs_total{status="ok"}'] == 2
    assert after['toolwire_runs_total{status="cancelled"}'] == 1
    assert after["toolwire_runs_active"] == 0
    await ws.close()
    await eventually(lambda: client.app[STATE].slots.count("ada") == 0)
    assert (await scrape(client))["toolwire_sockets_open"] == 0


async def test_metrics_name_no_user_and_no_token(start_server: ServerFactory) -> None:
    client = await start_server()
    token = await token_for(client, "secret-user-name")
    ws = await connect(client, "secret-user-name")
    await chat_run(ws, "hello")
    text = await (await client.get("/metrics")).text()
    assert "secret-user-name" not in text
    assert token not in text
    assert re.search(r"^toolwire_runs_total\{status=\"ok\"\} 1\.0$", text, re.MULTILINE)
    await ws.close()


async def test_threads_stored_and_history_bytes_are_counted(start_server: ServerFactory) -> None:
    client = await start_server()
    assert (await scrape(client))["toolwire_threads_stored"] == 0
    ws = await connect(client, "ada")
    await chat_run(ws, "what is 6*7?", thread_id="a")
    await chat_run(ws, "ans*2", thread_id="a")
    await chat_run(ws, "hello", thread_id="b")
    after = await scrape(client)
    assert after["toolwire_threads_stored"] == 2
    assert after["toolwire_threads_stored_bytes"] > 0
    assert after["toolwire_history_bytes_count"] == 3
    assert 0 < after["toolwire_history_bytes_sum"] < after["toolwire_threads_stored_bytes"]
    assert after['toolwire_history_bytes_bucket{le="0.0"}'] == 2  # two runs on new threads
    await ws.close()
