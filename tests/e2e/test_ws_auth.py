"""Auth happens before the upgrade: bad or missing tokens get HTTP 401, never a socket."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.e2e.helpers import TEST_SECRET, ServerFactory

Client = TestClient[web.Request, web.Application]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "mallory", "exp": int(time.time()) + 600, **extra}


BAD_TOKENS = {
    "garbage": "not-a-jwt",
    "alg_none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + ".",
    "forged": jwt.encode(_claims(), "some-other-secret-of-enough-length!!", algorithm="HS256"),
    "expired": jwt.encode(_claims(exp=int(time.time()) - 3600), TEST_SECRET,
                          algorithm="HS256"),
    "wrong_alg": jwt.encode(_claims(), TEST_SECRET, algorithm="HS512"),
    "no_exp": jwt.encode({"sub": "mallory"}, TEST_SECRET, algorithm="HS256"),
    "no_sub": jwt.encode({"exp": int(time.time()) + 600}, TEST_SECRET, algorithm="HS256"),
}


async def _upgrade_status(client: Client, **kwargs: Any) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as failed:
        await client.ws_connect("/ws", **kwargs)
    return failed.value.status


async def test_a_good_token_of_the_same_secret_is_accepted(server: Client) -> None:
    token = jwt.encode(_claims(), TEST_SECRET, algorithm="HS256")
    ws = await server.ws_connect("/ws", headers={"Authorization": f"Bearer {token}"})
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json(timeout=5)) == {"type": "pong"}
    await ws.close()


async def test_missing_token_is_401(server: Client) -> None:
    assert await _upgrade_status(server) == 401


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
async def test_bad_token_is_401_in_header_and_query(server: Client, name: str) -> None:
    token = BAD_TOKENS[name]
    assert await _upgrade_status(server, headers={"Authorization": f"Bearer {token}"}) == 401
    assert await _upgrade_status(server, params={"access_token": token}) == 401


async def test_tools_needs_a_token(server: Client) -> None:
    assert (await server.get("/tools")).status == 401
    forged = BAD_TOKENS["forged"]
    response = await server.get("/tools", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401


async def test_auth_token_is_404_when_dev_login_is_off(start_server: ServerFactory) -> None:
    client = await start_server(auth={"dev_login": False})
    response = await client.post("/auth/token", json={"user_id": "ada"})
    assert response.status == 404


async def test_origin_allow_list_refuses_other_origins(start_server: ServerFactory) -> None:
    client = await start_server(auth={"allowed_origins": ["https://app.example"]})
    token = jwt.encode(_claims(), TEST_SECRET, algorithm="HS256")
    auth = {"Authorization": f"Bearer {token}"}
    status = await _upgrade_status(client, headers={**auth, "Origin": "https://evil.example"})
    assert status == 403
    ws = await client.ws_connect("/ws", headers={**auth, "Origin": "https://app.example"})
    await ws.close()
