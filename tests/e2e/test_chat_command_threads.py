"""`toolwire chat` keeps a conversation: one thread per interactive session, `--thread`,
`--list`."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.e2e.conftest import ServerFactory


async def chat(url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run `toolwire chat --url URL ARGS…` with `stdin`; return exit code, stdout, stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOOLWIRE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "toolwire", "chat", "--url", url, *args, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    async with asyncio.timeout(30):
        out, err = await process.communicate(stdin.encode())
    assert process.returncode is not None
    assert "Traceback" not in err.decode()
    return process.returncode, out.decode(), err.decode()


async def test_an_interactive_session_is_one_thread(start_server: ServerFactory) -> None:
    server = await start_server()
    url = str(server.make_url(""))
    code, out, err = await chat(url, stdin="what is 6*7?\nand double that: ans*2\n/history\n"
                                "/quit\nnever sent\n")
    assert code == 0, err
    assert "answer: 42*2 = 84" in out
    assert "1. what is 6*7?\n2. and double that: ans*2" in out
    assert "never sent" not in out
    assert "/quit or Ctrl-D" in err
    code, out, _ = await chat(url, stdin="ans*2\n")  # Ctrl-D (end of input) leaves too
    assert code == 0
    assert "no earlier numeric answer" in out  # a new session is a new thread


async def test_thread_continues_a_thread_and_list_shows_them(start_server: ServerFactory) -> None:
    server = await start_server()
    url = str(server.make_url(""))
    assert (await chat(url, "--thread", "maths", "what is 6*7?"))[0] == 0
    code, out, _ = await chat(url, "--thread", "maths", "ans+1")
    assert "answer: 42+1 = 43" in out
    assert (await chat(url, "--user", "bob", "--thread", "maths", "ans+1"))[0] == 0
    code, out, err = await chat(url, "--list")
    assert code == 0, err
    (line,) = out.splitlines()
    assert line.startswith("maths  ")
    assert line.endswith("  2 turns  what is 6*7?")
