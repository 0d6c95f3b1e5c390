"""A service adds tools by configuration: a module in TOOLWIRE_TOOLS__MODULES or an entry point.

Each test writes a throw-away package, loads it the way a user would, and checks that the tool
is listed (`toolwire tools`, `GET /tools`) and runs in a chat with the five events.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.integration.conftest import Recorder
from tests.tool_site import Site, site_on_path
from toolwire import (
    ApplicationContainer,
    Settings,
    UserExecutionContext,
    create_app,
    create_container,
)
from toolwire.services.errors import ToolConflictError, ToolLoadError
from toolwire.testing import assert_well_formed

SHOP_TOOLS = """
    from typing import Annotated, Any

    from pydantic import BaseModel, Field

    from toolwire import ToolError, tool


    class Order(BaseModel):
        item: str = Field(description="What to order")
        quantity: int = Field(1, ge=1, le=10)


    class OutOfStock(ToolError):
        error_type = "out_of_stock"


    @tool(name="weather", description="Forecast for a city.")
    def weather(
        city: Annotated[str, Field(description="City name", min_length=1)],
        days: Annotated[int, Field(ge=1, le=7)] = 1,
    ) -> dict[str, Any]:
        return {"city": city, "forecast": ["sunny"] * days}


    @tool(name="order", description="Place an order.")
    async def order(order: Order) -> dict[str, Any]:
        if order.item == "unicorn":
            raise OutOfStock("no unicorns left")
        return {"item": order.item, "quantity": order.quantity, "status": "placed"}


    @tool(name="opaque", description="Returns something that is not JSON.")
    def opaque() -> object:
        return object()
"""

FIVE = {"agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """A fresh `Site`; the modules imported from it are forgotten afterwards."""
    yield from site_on_path(tmp_path, monkeypatch)


@pytest.fixture(params=["modules", "entry_point"])
async def shop(
    request: pytest.FixtureRequest, site: Site, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ApplicationContainer]:
    """A container with the shop tools, named in TOOLWIRE_TOOLS__MODULES or an entry point."""
    module = site.module("tools", SHOP_TOOLS)
    if request.param == "modules":
        monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", module)
    else:
        site.dist("shop", shop=module)
    container = create_container(Settings(env="test"))
    spec = container.tool_registry().get("weather")
    assert spec is not None
    assert ("via entry point 'shop'" in spec.origin) == (request.param == "entry_point")
    yield container
    await container.event_bus().aclose()


async def chat(
    container: ApplicationContainer, recorder: Recorder, message: str
) -> list[dict[str, Any]]:
    """Run `message` in a request scope; return its events (wire form), checked well-formed."""
    ctx = UserExecutionContext.for_user("ada")
    subscription = await container.event_bus().subscribe("ada", recorder)
    try:
        async with container.request_scope(ctx) as scope:
            await scope.run(message)
    finally:
        await subscription.close()
    events = [event.to_wire() for event in recorder.run(ctx.run_id)]
    assert_well_formed(events)
    return events


def completed(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == "tool_completed"]


async def test_sync_and_async_custom_tools_run_in_a_chat_with_the_five_events(
    shop: ApplicationContainer, recorder: Recorder
) -> None:
    events = await chat(shop, recorder, "\n".join([
        '/call weather {"city": "Oslo", "days": 2}',
        '/call order {"item": "tea", "quantity": 3}',
    ]))
    assert {e["type"] for e in events} == FIVE
    weather, order = completed(events)
    assert weather["status"] == "ok"
    assert weather["result"] == {"city": "Oslo", "forecast": ["sunny", "sunny"]}
    assert order["status"] == "ok"
    assert order["result"] == {"item": "tea", "quantity": 3, "status": "placed"}
    assert events[-1]["data"]["status"] == "ok"


@pytest.mark.parametrize(
    ("call", "where"),
    [
        ('/call weather {"days": 2}', "city"),
        ('/call weather {"city": "Oslo", "days": 30}', "days"),
        ('/call weather {"city": "Oslo", "colour": "red"}', "colour"),
        ('/call order {"item": "tea", "quantity": 0}', "quantity"),
        ('/call order {"quantity": 1}', "item"),
    ],
)
async def test_bad_arguments_are_an_error_result_and_the_run_goes_on(
    shop: ApplicationContainer, recorder: Recorder, call: str, where: str
) -> None:
    events = await chat(shop, recorder, call + '\n/call echo {"text": "still here"}')
    failed, echoed = completed(events)
    assert failed["status"] == "error"
    assert failed["error"]["type"] == "invalid_arguments"
    assert failed["error"]["message"].startswith(where)
    assert echoed["result"] == "still here"
    assert events[-1]["data"]["status"] == "ok"


async def test_a_tool_error_subclass_sets_the_error_type(
    shop: ApplicationContainer, recorder: Recorder
) -> None:
    events = await chat(shop, recorder, '/call order {"item": "unicorn"}')
    (failed,) = completed(events)
    assert failed["error"] == {"type": "out_of_stock", "message": "no unicorns left"}


async def test_a_result_that_is_not_json_is_a_clear_error(
    shop: ApplicationContainer, recorder: Recorder
) -> None:
    events = await chat(shop, recorder, "/call opaque {}")
    (failed,) = completed(events)
    assert failed["status"] == "error"
    assert failed["error"]["type"] == "unserialisable_result"
    assert "object is not JSON-serialisable" in failed["error"]["message"]
    json.dumps(events, allow_nan=False)  # every event stayed valid JSON
    assert events[-1]["data"]["status"] == "ok"


async def test_a_duplicate_name_fails_start_up_naming_both_origins(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = site.module("tools", SHOP_TOOLS)
    second = site.module("more", """
        from toolwire import tool

        @tool(name="weather")
        def other_weather(city: str) -> str:
            return "rain"
    """)
    monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", f"{first},{second}")
    container = create_container(Settings(env="test"))
    try:
        with pytest.raises(ToolConflictError) as caught:
            create_app(container)
        assert f"{first}.weather" in str(caught.value)
        assert f"{second}.other_weather" in str(caught.value)
    finally:
        await container.event_bus().aclose()


async def test_an_import_failure_stops_start_up_naming_the_module(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = site.module("broken", "import shop_dependency_that_is_missing\n")
    monkeypatch.setenv("TOOLWIRE_TOOLS__MODULES", broken)
    container = create_container(Settings(env="test"))
    try:
        with pytest.raises(ToolLoadError, match=broken):
            create_app(container)
    finally:
        await container.event_bus().aclose()


# --- over HTTP and the WebSocket ---------------------------------------------------------------


async def token(client: TestClient[Any, Any], user: str) -> str:
    resp = await client.post("/auth/token", json={"user_id": user})
    assert resp.status == 200, await resp.text()
    return str((await resp.json())["access_token"])


async def ws_chat(client: TestClient[Any, Any], user: str, message: str) -> list[dict[str, Any]]:
    """Send one chat over `/ws`; return that run's events."""
    headers = {"Authorization": f"Bearer {await token(client, user)}"}
    async with client.ws_connect("/ws", headers=headers) as socket:
        await socket.send_json({"type": "chat", "message": message})
        events: list[dict[str, Any]] = []
        while not events or events[-1]["type"] != "agent_completed":
            events.append(await socket.receive_json(timeout=10))
    return events


async def test_get_tools_lists_custom_tools_with_their_schemas(
    shop: ApplicationContainer, aiohttp_client: Callable[..., Any]
) -> None:
    client = await aiohttp_client(create_app(shop))
    bearer = {"Authorization": f"Bearer {await token(client, 'ada')}"}
    resp = await client.get("/tools", headers=bearer)
    assert resp.status == 200
    tools = {t["name"]: t for t in await resp.json()}
    assert {"weather", "order", "opaque", "calculator"} <= set(tools)
    weather = tools["weather"]
    assert weather["description"] == "Forecast for a city."
    assert weather["args"]["required"] == ["city"]
    assert weather["args"]["properties"]["city"]["description"] == "City name"
    assert weather["args"]["properties"]["days"]["maximum"] == 7
    order = tools["order"]["args"]
    assert order["title"] == "Order"
    assert order["properties"]["item"]["description"] == "What to order"


async def test_a_custom_tool_runs_over_the_websocket(
    shop: ApplicationContainer, aiohttp_client: Callable[..., Any]
) -> None:
    client = await aiohttp_client(create_app(shop))
    events = await ws_chat(client, "ada", '/call order {"item": "tea"}')
    assert_well_formed(events)
    assert {e["type"] for e in events} == FIVE
    assert completed(events)[0]["result"]["status"] == "placed"


# --- the command line, as a separate process -----------------------------------------------------


def toolwire(site: Site, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    clean["PYTHONPATH"] = os.pathsep.join([str(site.root), clean.get("PYTHONPATH", "")])
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "toolwire", *args], capture_output=True, text=True,
        timeout=60, env=clean, cwd=site.root, check=False,
    )


def test_toolwire_tools_lists_a_module_tool(site: Site) -> None:
    module = site.module("tools", SHOP_TOOLS)
    done = toolwire(site, "tools", "--json", TOOLWIRE_TOOLS__MODULES=module)
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    assert tools["weather"]["args"]["properties"]["city"]["description"] == "City name"
    assert tools["order"]["args"]["properties"]["quantity"]["maximum"] == 10


def test_toolwire_tools_lists_an_entry_point_tool_without_any_setting(site: Site) -> None:
    site.dist("shop", shop=site.module("tools", SHOP_TOOLS))
    done = toolwire(site, "tools")
    assert done.returncode == 0, done.stderr
    assert "weather: Forecast for a city." in done.stdout
    assert '"city":{"description":"City name"' in done.stdout


def test_toolwire_run_chats_with_an_entry_point_tool(site: Site) -> None:
    site.dist("shop", shop=site.module("tools", SHOP_TOOLS))
    done = toolwire(site, "run", '/call weather {"city": "Lima"}')
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert_well_formed(events)
    assert {e["type"] for e in events} == FIVE
    assert completed(events)[0]["result"] == {"city": "Lima", "forecast": ["sunny"]}


@pytest.mark.parametrize("command", [["tools"], ["serve", "--port", "0"]])
def test_start_up_stops_on_an_import_failure_naming_the_module(
    site: Site, command: list[str]
) -> None:
    broken = site.module("broken", "import shop_dependency_that_is_missing\n")
    done = toolwire(site, *command, TOOLWIRE_TOOLS__MODULES=broken)
    assert done.returncode == 1
    assert f"cannot import tool module {broken!r}" in done.stderr
    assert "No module named 'shop_dependency_that_is_missing'" in done.stderr
    assert "Traceback" not in done.stderr


def test_toolwire_tools_stops_on_a_duplicate_naming_both(site: Site) -> None:
    module = site.module("clash", """
        from toolwire import tool

        @tool(name="echo")
        def loud_echo(text: str) -> str:
            return text.upper()
    """)
    done = toolwire(site, "tools", TOOLWIRE_TOOLS__MODULES=module)
    assert done.returncode == 1
    assert "two tools are named 'echo'" in done.stderr
    assert "toolwire.services.tools.builtin.echo.echo" in done.stderr
    assert f"{module}.loud_echo" in done.stderr
