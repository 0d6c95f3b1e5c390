"""Identity over real sockets: identity-provider tokens, tools per user, CORS preflights."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.conftest import ServerFactory, receive
from tests.e2e.conftest import test_settings as e2e_settings
from tests.identity_provider import AUDIENCE, ISSUER, IdentityProvider
from toolwire.container import create_app, create_container

Client = TestClient[web.Request, web.Application]
APP_ORIGIN = "https://app.example"


async def idp_server(start_server: ServerFactory, idp: IdentityProvider, **settings: Any,
                     ) -> Client:
    auth = {"jwks_url": idp.url, "issuer": ISSUER, "audience": AUDIENCE,
            "jwks_refresh_interval_s": 0, **settings.pop("auth", {})}
    return await start_server(auth=auth, **settings)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def chat(client: Client, token: str, message: str) -> list[dict[str, Any]]:
    """Run one chat on a fresh socket; return its events."""
    async with client.ws_connect("/ws", headers=bearer(token)) as ws:
        await ws.send_json({"type": "chat", "message": message})
        events = [await receive(ws)]
        while events[-1]["type"] != "agent_completed":
            events.append(await receive(ws))
    return events


async def test_a_token_of_the_identity_provider_chats(
        start_server: ServerFactory, identity_provider: IdentityProvider) -> None:
    client = await idp_server(start_server, identity_provider)
    events = await chat(client, identity_provider.token("rsa-1", sub="ann"), "what is 6*7?")
    assert events[-1]["data"]["answer"] == "6*7 = 42"


async def test_bad_tokens_get_401_before_the_upgrade(
        start_server: ServerFactory, identity_provider: IdentityProvider) -> None:
    client = await idp_server(start_server, identity_provider)
    statuses = {}
    for name, token in identity_provider.bad_tokens().items():
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=bearer(token))
        statuses[name] = refused.value.status
        statuses[name + " (GET /tools)"] = (
            await client.get("/tools", headers=bearer(token))).status
    assert set(statuses.values()) == {401}, statuses


async def test_a_key_the_provider_adds_later_is_accepted_without_a_restart(
        start_server: ServerFactory, identity_provider: IdentityProvider) -> None:
    client = await idp_server(start_server, identity_provider)
    assert (await chat(client, identity_provider.token("rsa-1"), "hi"))[-1]["type"] \
        == "agent_completed"
    identity_provider.new_key("ec-2", "ES256")
    events = await chat(client, identity_provider.token("ec-2", sub="bob"), "hello")
    assert events[-1]["data"]["answer"] == "You said: hello"


async def test_a_user_without_a_tools_scope_neither_sees_nor_runs_it(
        start_server: ServerFactory, identity_provider: IdentityProvider) -> None:
    client = await idp_server(start_server, identity_provider,
                              tools={"scopes": {"echo": ["shout"]}})
    plain = identity_provider.token("rsa-1", sub="ann")
    allowed = identity_provider.token("rsa-1", sub="bob", scopes=["shout", "other"])

    async def listed(token: str) -> list[str]:
        response = await client.get("/tools", headers=bearer(token))
        return [tool["name"] for tool in await response.json()]

    assert "echo" not in await listed(plain) and "calculator" in await listed(plain)
    assert "echo" in await listed(allowed)
    message = '/call echo {"text": "hi"}'
    [refused] = [e for e in await chat(client, plain, message) if e["type"] == "tool_completed"]
    assert refused["data"]["status"] == "error"
    assert refused["data"]["error"]["type"] == "forbidden"
    [ran] = [e for e in await chat(client, allowed, message) if e["type"] == "tool_completed"]
    assert ran["data"]["status"] == "ok" and ran["data"]["result"] == "hi"


PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


@pytest.mark.parametrize("path", ["/agui", "/tools", "/auth/token"])
async def test_preflights_pass_for_allowed_origins_only(
        start_server: ServerFactory, path: str) -> None:
    client = await start_server(auth={"allowed_origins": [APP_ORIGIN]})
    ok = await client.options(path, headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert ok.status == 204
    assert ok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    allowed_headers = ok.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    other = await client.options(path, headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert other.status == 403
    assert not any(name.startswith("Access-Control-") for name in other.headers)


async def test_no_preflight_passes_when_no_origin_is_allowed(
        start_server: ServerFactory) -> None:
    client = await start_server()
    refused = await client.options("/agui", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert refused.status == 403 and "Access-Control-Allow-Origin" not in refused.headers


async def test_a_page_on_an_allowed_origin_reads_the_agui_stream(
        start_server: ServerFactory, identity_provider: IdentityProvider) -> None:
    client = await idp_server(start_server, identity_provider,
                              auth={"allowed_origins": [APP_ORIGIN]})
    body = {"threadId": "t_cors", "runId": "r_cors", "state": {}, "tools": [], "context": [],
            "forwardedProps": {}, "messages": [{"id": "m1", "role": "user", "content": "hi"}]}
    headers = {"Origin": APP_ORIGIN, **bearer(identity_provider.token("rsa-1"))}
    response = await client.post("/agui", json=body, headers=headers)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "RUN_FINISHED" in await response.text()
    other = await client.get("/tools", headers={**headers, "Origin": "https://evil.example"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers.getall("Vary", [])


async def test_the_websocket_origin_check_is_unchanged(start_server: ServerFactory) -> None:
    client = await start_server(auth={"allowed_origins": [APP_ORIGIN]})
    token = (await (await client.post("/auth/token", json={"user_id": "ann"})).json())[
        "access_token"]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers={**bearer(token), "Origin": "https://evil.example"})
    assert refused.value.status == 403
    async with client.ws_connect("/ws", headers={**bearer(token), "Origin": APP_ORIGIN}) as ws:
        await ws.send_json({"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_preflights_reach_toolwire_mounted_in_a_host_app(aiohttp_client: Any) -> None:
    host = web.Application()
    host.add_subapp("/agent", create_app(create_container(
        e2e_settings(auth={"allowed_origins": [APP_ORIGIN]}))))
    client: Client = await aiohttp_client(host)
    ok = await client.options("/agent/agui", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert ok.status == 204 and ok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    other = await client.options("/agent/agui", headers={"Origin": "https://x.example",
                                                         **PREFLIGHT})
    assert other.status == 403
