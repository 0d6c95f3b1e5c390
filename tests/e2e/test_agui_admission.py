"""`POST /agui` checks what costs little before what costs more, and parses its edges strictly.

Raw sockets send exactly the bytes a hostile client would: a body that never comes, a body
trickled a byte at a time, a `Last-Event-ID` in UTF-8 that `str.isdigit` takes for digits.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

from ag_ui.core import EventType

from tests.e2e.agui_client import Client, post_agui, read_sse, run_input
from tests.e2e.helpers import ServerFactory, connect, token_for

HEAD_S = 5.0  # a hang guard for an answer that must not wait for the body


async def raw_request(client: Client, head: bytes, body: bytes = b"",
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection to the test server and send `head` and `body`."""
    url = urlsplit(str(client.make_url("/")))
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(head + body)
    await writer.drain()
    return reader, writer


def post_head(token: str, length: int, **headers: str) -> bytes:
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return (f"POST /agui HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\nContent-Length: {length}\r\n{extra}\r\n"
            ).encode()


async def status_of(reader: asyncio.StreamReader) -> int:
    """Read the response's status line (within the hang guard)."""
    async with asyncio.timeout(HEAD_S):
        line = await reader.readline()
    return int(line.split()[1])


async def test_a_user_over_quota_is_refused_before_the_body_is_read(
    start_server: ServerFactory,
) -> None:
    server = await start_server(limits={"chats_per_minute": 1})
    token = await token_for(server, "ada")
    await read_sse(await post_agui(server, token, run_input("hi", run_id="q-1")))
    # A 1 MB body announced, 10 bytes of it sent: the answer cannot wait for the rest.
    reader, writer = await raw_request(server, post_head(token, 1_000_000), b'{"threadId"')
    assert await status_of(reader) == 429
    writer.close()


async def test_a_user_without_a_free_slot_is_refused_before_the_body_is_read(
    start_server: ServerFactory,
) -> None:
    server = await start_server(limits={"sockets_per_user": 1})
    ws = await connect(server, "ada")
    token = await token_for(server, "ada")
    reader, writer = await raw_request(server, post_head(token, 1_000_000), b'{"threadId"')
    assert await status_of(reader) == 429
    writer.close()
    await ws.close()


async def test_a_body_trickled_a_byte_at_a_time_is_cut_at_the_body_timeout(
    start_server: ServerFactory,
) -> None:
    server = await start_server(server={"body_timeout_s": 0.5})
    token = await token_for(server, "ada")
    body = json.dumps(run_input("hi")).encode()
    reader, writer = await raw_request(server, post_head(token, len(body)))
    started = time.monotonic()

    async def trickle() -> None:
        for byte in body:
            writer.write(bytes([byte]))
            await asyncio.sleep(0.1)

    trickling = asyncio.create_task(trickle())
    try:
        assert await status_of(reader) == 408
        took = time.monotonic() - started
        async with asyncio.timeout(HEAD_S):
            rest = await reader.read()  # to the end: the server closes the connection
        assert b"server.body_timeout_s" in rest
    finally:
        trickling.cancel()
        writer.close()
    assert took < len(body) * 0.1  # long before the whole body would have arrived


async def test_a_last_event_id_with_non_ascii_digits_is_a_400(server: Client) -> None:
    token = await token_for(server, "ada")
    body = json.dumps(run_input("hi")).encode()
    head = post_head(token, len(body)).replace(
        b"\r\n\r\n", b"\r\nLast-Event-ID: r_1:\xc2\xb2:0\r\n\r\n")  # "²" in UTF-8
    reader, writer = await raw_request(server, head, body)
    assert await status_of(reader) == 400
    async with asyncio.timeout(HEAD_S):
        answer = await reader.read(4096)
    assert b"invalid_message" in answer
    writer.close()


async def test_a_resume_at_or_past_an_ended_runs_end_is_answered_at_once(
    server: Client,
) -> None:
    token = await token_for(server, "ada")
    body = run_input("hi", run_id="q-end")
    events = await read_sse(await post_agui(server, token, body))
    assert events[-1].event.type is EventType.RUN_FINISHED
    last_id = events[-1].id
    assert last_id is not None
    async with asyncio.timeout(HEAD_S):  # not a keep-alive every heartbeat
        at_end = await post_agui(server, token, body, **{"Last-Event-ID": last_id})
        assert at_end.status == 200
        assert await read_sse(at_end) == []  # it has everything: the stream just ends
        run_id, seq, _ = last_id.split(":")
        past = await post_agui(server, token, body,
                               **{"Last-Event-ID": f"{run_id}:{int(seq) + 5}:0"})
        assert past.status == 404
        assert (await past.json())["error"] == "not_found"
