"""`toolwire chat` as a user runs it (a subprocess) against real servers: tokens, prefixes, 404s."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import jwt
import pytest
from aiohttp import web

from tests.e2e.conftest import TEST_SECRET, ServerFactory
from tests.e2e.conftest import test_settings as e2e_settings
from toolwire.commands.chat_client import ChatUnavailableError, server_urls
from toolwire.container import create_app, create_container


async def chat(url: str, *args: str, token: str | None = None) -> tuple[int, str, str]:
    """Run `toolwire chat --url URL ARGS…`; return its exit code, stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    if token is not None:
        env["TOOLWIRE_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "chat", "--url", url, *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, err = await process.communicate()
    assert process.returncode is not None
    stderr = err.decode()
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr, "every failure closes its client session"
    return process.returncode, out.decode(), stderr


def token_for(user_id: str) -> str:
    """Return a token for `user_id` signed like the identity provider of a deployment would."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + 60}, TEST_SECRET, "HS256")


async def test_a_token_reaches_a_server_without_dev_login(start_server: ServerFactory) -> None:
    server = await start_server(auth={"dev_login": False})
    code, out, err = await chat(str(server.make_url("")), "what is 6*7?",
                                token=token_for("ada"))
    assert code == 0, err
    assert "answer: 6*7 = 42" in out


async def test_the_token_option_works_like_the_variable(start_server: ServerFactory) -> None:
    server = await start_server(auth={"dev_login": False})
    code, out, err = await chat(str(server.make_url("")), "--token", token_for("ada"), "hi")
    assert code == 0, err
    assert "answer: You said: hi" in out


async def test_an_app_mounted_under_a_prefix_is_reached(aiohttp_client: Any) -> None:
    host = web.Application()
    host.add_subapp("/agent", create_app(create_container(e2e_settings())))
    client = await aiohttp_client(host)
    for url in (client.make_url("/agent"), client.make_url("/agent/ws")):
        code, out, err = await chat(str(url), "hi")
        assert code == 0, err
        assert "answer: You said: hi" in out


async def test_a_server_without_dev_login_is_named_as_such(start_server: ServerFactory) -> None:
    server = await start_server(auth={"dev_login": False})
    code, out, err = await chat(str(server.make_url("")), "hi")
    assert code == 2
    assert out == ""
    assert "does not issue development tokens (auth.dev_login is off there): pass --token " \
           "or set TOOLWIRE_TOKEN" in err


async def test_a_url_without_a_toolwire_server_is_a_404_not_a_login_problem(
    aiohttp_client: Any,
) -> None:
    host = web.Application()
    host.add_subapp("/agent", create_app(create_container(e2e_settings())))
    client = await aiohttp_client(host)
    code, _, err = await chat(str(client.make_url("/")), "hi")  # the prefix is missing
    assert code == 2
    assert "no toolwire server at" in err
    assert "check the URL and its path prefix" in err
    assert "dev_login" not in err


async def test_a_refused_token_is_reported(start_server: ServerFactory) -> None:
    server = await start_server()
    code, _, err = await chat(str(server.make_url("")), "hi", token="not-a-token")
    assert code == 2
    assert err == "Error: the server refused the access token (HTTP 401): it is invalid or " \
                  "expired\n"
    assert "not-a-token" not in err


@pytest.mark.parametrize(("url", "expected"), [
    ("http://h:8080", ("http://h:8080", "ws://h:8080/ws")),
    ("http://h:8080/", ("http://h:8080", "ws://h:8080/ws")),
    ("https://h/agent/", ("https://h/agent", "wss://h/agent/ws")),
    ("ws://h/agent/ws", ("http://h/agent", "ws://h/agent/ws")),
    ("wss://h/ws?x=1", ("https://h", "wss://h/ws")),
])
def test_server_urls_accept_base_and_socket_urls(url: str, expected: tuple[str, str]) -> None:
    assert server_urls(url) == expected


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://h/", "http://"])
def test_server_urls_refuse_what_is_not_a_server_url(url: str) -> None:
    with pytest.raises(ChatUnavailableError, match="is not an http"):
        server_urls(url)
