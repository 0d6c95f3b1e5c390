"""No input holds the event loop: while one user sends the worst text we can build for every
path that reads it, another user's ping round trip stays under 100 ms.

A real `toolwire serve` process; the round trips are measured from this process.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import aiohttp

from tests.e2e.served import Served, open_socket, serve

MAX_RTT_S = 0.100
MIB = 1024 * 1024


def hostile_chats() -> list[str]:
    """A chat message per path that reads user text, each as bad as a 1 MiB frame allows."""
    big = MIB - 4096
    deep_args = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    return [
        "1" + " " * big + "1",  # the message that froze the loop (quadratic arithmetic regex)
        "1 " * (big // 2),  # a digit at every other position
        "+" * big,  # operators with no digit
        "(" * big,
        "1)" * (big // 2),
        "/call" * (big // 5),  # a /call scan with no tool
        "x\n" * (big // 3) + "/call echo {}",  # a third of a million lines before the call
        "what time is it " * (big // 16),
        "/call echo " + deep_args,  # deep tool arguments
        '/call echo {"text": "' + "\\ud800" * (big // 8) + '"}',  # lone surrogates
        '/call calculator {"expression": "' + "(" * 500 + "1" + ")" * 499 + '"}',
        '/call calculator {"expression": "' + "9**" * 300 + '9"}',
        '/call echo {"text": ' + "9" * (big // 2) + "}",  # a half-million-digit number
    ]


def hostile_frames() -> list[str]:
    """Whole frames that are hostile before they are chats."""
    big = MIB - 64
    return [
        "[" * big,
        '{"type": "ping", "x": ' + "{\"a\":" * (big // 6) + "}",
        '{"type": "resume", "run_id": "r_1", "after_seq": ' + "9" * (big - 64) + "}",
        '"' + "\\ud800" * (big // 7) + '"',
        "x" * big,
    ]


async def drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read and drop everything, so the attacker is never a slow consumer."""
    async for _ in ws:
        pass


async def attack(session: aiohttp.ClientSession, served: Served, stop: asyncio.Event) -> int:
    sent = 0
    while not stop.is_set():
        ws = await open_socket(session, served, "mallory", max_msg_size=0)
        reader = asyncio.create_task(drain(ws))
        for frame in hostile_frames():
            await ws.send_str(frame)
            sent += 1
        for message in hostile_chats():
            frame = json.dumps({"type": "chat", "message": message})
            assert len(frame.encode()) <= MIB, "each frame must fit ws.max_message_bytes"
            await ws.send_str(frame)
            sent += 1
            await asyncio.sleep(0.05)
        await ws.close()
        await reader
    return sent


async def measure(session: aiohttp.ClientSession, served: Served,
                  stop: asyncio.Event) -> list[float]:
    ws = await open_socket(session, served, "bob")
    round_trips = []
    while not stop.is_set():
        started = time.perf_counter()
        await ws.send_str('{"type": "ping"}')
        reply = await ws.receive_json(timeout=10)
        round_trips.append(time.perf_counter() - started)
        assert reply == {"type": "pong"}
        await asyncio.sleep(0.01)
    await ws.close()
    return round_trips


async def test_hostile_input_never_holds_the_loop() -> None:
    async with serve(TOOLWIRE_LIMITS__CHATS_PER_MINUTE="100000",
                     TOOLWIRE_LIMITS__RUNS_PER_USER="1000") as served, \
            aiohttp.ClientSession() as session:
        stop = asyncio.Event()
        measurer = asyncio.create_task(measure(session, served, stop))
        attacker = asyncio.create_task(attack(session, served, stop))
        await asyncio.sleep(12)
        stop.set()
        round_trips, sent = await asyncio.gather(measurer, attacker)
        rss_mb = served.rss_bytes() / MIB
    worst = max(round_trips)
    print(f"\n{sent} hostile frames; {len(round_trips)} pings: median "
          f"{statistics.median(round_trips) * 1000:.1f} ms, worst {worst * 1000:.1f} ms; "
          f"server RSS {rss_mb:.0f} MB")
    assert sent >= len(hostile_chats()) + len(hostile_frames())
    assert worst < MAX_RTT_S, f"a ping waited {worst * 1000:.0f} ms"
    assert not served.tracebacks(), "\n".join(served.log)
