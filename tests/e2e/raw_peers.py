"""Hostile peers on raw sockets: a 4 KiB receive buffer, a request sent, nothing ever read.

Nothing in aiohttp's client stands between the test and the kernel: the server meets exactly
the peer that takes no bytes and never closes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Final
from urllib.parse import urlsplit

import psutil

from tests.e2e.agui_client import run_input

RECEIVE_BUFFER: Final = 4096
TRANSPORTS: Final = ("/ws", "/ws?protocol=ag-ui", "/agui")


class RawPeer:
    """One TCP connection with a tiny receive buffer that the test never reads."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @property
    def port(self) -> int:
        """Return the peer's local port (the server's remote port for it)."""
        port: int = self.sock.getsockname()[1]
        return port

    async def send(self, data: bytes) -> None:
        """Write `data` whole."""
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def send_text_frame(self, text: str) -> None:
        """Send one masked WebSocket text frame, as a client must."""
        payload = text.encode()
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        await self.send(header + mask + masked)

    def close(self) -> None:
        """Close the socket (the test is over)."""
        self.sock.close()


async def connect(url: str) -> RawPeer:
    """Open a TCP connection to the server of `url` with a 4 KiB receive buffer."""
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    return RawPeer(sock)


async def open_websocket(url: str, path: str, bearer: str) -> RawPeer:
    """Send a WebSocket upgrade for `path` (`/ws…`); the answer is never read."""
    peer = await connect(url)
    key = base64.b64encode(os.urandom(16)).decode()
    host = urlsplit(url).netloc
    await peer.send(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {bearer}\r\n\r\n".encode())
    return peer


async def post_agui(url: str, bearer: str, message: str, run_id: str) -> RawPeer:
    """Send `POST /agui` starting a run of `message` on a thread of its own (a busy thread
    would refuse it with 409); the stream is never read."""
    peer = await connect(url)
    body = json.dumps(run_input(message, run_id=run_id, thread_id=f"t-{run_id}")).encode()
    host = urlsplit(url).netloc
    await peer.send(
        f"POST /agui HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nAuthorization: Bearer {bearer}\r\n\r\n".encode()
        + body)
    return peer


def held_by_server(pid: int, peers: list[RawPeer]) -> int:
    """Return how many of `peers`' TCP connections the server process still holds open."""
    ports = {peer.port for peer in peers}
    return sum(1 for conn in psutil.Process(pid).net_connections(kind="tcp")
               if conn.raddr and conn.raddr.port in ports
               and conn.status == psutil.CONN_ESTABLISHED)
