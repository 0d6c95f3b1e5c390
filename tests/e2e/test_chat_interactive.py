"""Interactive `toolwire chat` as a user meets it: a subprocess reading lines from its stdin."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.e2e.conftest import ServerFactory
from toolwire.commands.chat import HELP


async def interactive(url: str, typed: str) -> tuple[int, str, str]:
    """Run `toolwire chat --url URL` with `typed` as its input; return code, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "chat", "--url", url, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, err = await process.communicate(typed.encode())
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_help_line_comes_first_and_slash_quit_leaves(start_server: ServerFactory) -> None:
    server = await start_server()
    code, out, err = await interactive(str(server.make_url("")),
                                       "what is 6*7?\n/quit\nwhat is 1+1?\n")
    assert code == 0, err
    assert err.splitlines()[0] == HELP
    assert "/quit" in HELP and "Ctrl-D" in HELP and "/help" in HELP
    assert "answer: 6*7 = 42" in out
    assert "1+1" not in out  # nothing after /quit is sent


async def test_slash_help_prints_the_help_instead_of_asking_the_agent(
    start_server: ServerFactory,
) -> None:
    server = await start_server()
    code, out, err = await interactive(str(server.make_url("")), "/help\n")
    assert code == 0, err
    assert err.count(HELP) == 2  # at the start, and for /help
    assert "started" not in out  # no run


async def test_end_of_input_leaves_like_ctrl_d(start_server: ServerFactory) -> None:
    server = await start_server()
    code, out, err = await interactive(str(server.make_url("")), "hi\n")
    assert code == 0, err
    assert "answer: You said: hi" in out
