"""`WireFormat`: how a socket reads client frames and writes server frames (`?protocol=`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from toolwire.adapters.web.ws.protocol import (
    PONG,
    ClientFrame,
    error_message,
    parse_frame,
    request_id_of,
)
from toolwire.adapters.web.ws.writer import Render


@dataclass(frozen=True, slots=True)
class WireFormat:
    """What one socket protocol is made of; `render` None: the toolwire encoding."""

    parse: Callable[[dict[str, Any]], ClientFrame]
    render: Render | None
    error: Callable[[str, str, str | None], bytes]
    pong: bytes
    request_id_of: Callable[[dict[str, Any]], str | None]


TOOLWIRE: Final = WireFormat(parse_frame, None, error_message, PONG, request_id_of)
PROTOCOLS: Final = ("toolwire", "ag-ui")


@functools.cache
def ag_ui_format() -> WireFormat:
    """Return the AG-UI format (its models were loaded when the app was built)."""
    from toolwire.adapters.web.agui import socket as agui_ws

    return WireFormat(agui_ws.parse_frame, agui_ws.render, agui_ws.error_frame,
                      agui_ws.PONG_FRAME, agui_ws.request_id_of)


def wire_format(request: web.Request) -> WireFormat:
    """Return the format `?protocol=` names (default `toolwire`); HTTP 400 for another."""
    name = request.query.get("protocol", "toolwire")
    if name == "toolwire":
        return TOOLWIRE
    if name == "ag-ui":
        return ag_ui_format()
    raise web.HTTPBadRequest(
        text=f"unknown protocol {name[:40]!r}; expected one of {', '.join(PROTOCOLS)}")
